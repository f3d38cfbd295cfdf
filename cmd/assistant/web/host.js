// The workspace page of "assistant sim". It plays the host: it frames the
// component, receives its message events and forwards each one, in order,
// to the sim server, which judges it with the Go library (wire format,
// channel rules, spacing, origin). This script only draws the verdicts.
//
// Everything untrusted is drawn with DOM APIs and textContent; rich HTML
// goes into a sandboxed srcdoc frame without allow-scripts, so no script
// in a message can run.
'use strict';

(function () {
  const body = document.body;
  const componentURL = body.dataset.component;
  const frame = document.getElementById('component');
  const conversation = document.getElementById('conversation');
  const log = document.getElementById('log');
  const channelSel = document.getElementById('channel');
  const sdkVersion = document.getElementById('sdk-version');
  const otherName = document.getElementById('other-name');
  const counts = { accepted: 0, refused: 0 };

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function channel() {
    switch (channelSel.value) {
      case 'sdk': return 'sdk@' + sdkVersion.value.trim();
      case 'other': return otherName.value.trim() || 'other';
      default: return channelSel.value;
    }
  }

  function showChannel() {
    sdkVersion.hidden = channelSel.value !== 'sdk';
    otherName.hidden = channelSel.value !== 'other';
    document.getElementById('channel-value').textContent = channel();
  }
  channelSel.addEventListener('change', showChannel);
  sdkVersion.addEventListener('input', showChannel);
  otherName.addEventListener('input', showChannel);
  showChannel();

  document.getElementById('expected-origin').textContent = body.dataset.origin;
  const urlInput = document.getElementById('component-url');
  urlInput.value = componentURL;
  document.getElementById('component-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const u = new URL(location.href);
    u.searchParams.set('component', urlInput.value.trim());
    location.assign(u.toString());
  });

  // Busy host: a heavy workspace page runs long tasks, a random 0-N ms
  // every 150-400 ms, N picked in the page (or ?busy=N). A message that
  // arrives during a task is dispatched when it ends and the next one at
  // once, so this page sees them closer than they were sent; the spacing
  // check judges what it sees, so such arrivals are flagged too fast.
  const busySel = document.getElementById('busy');
  const busyStat = document.getElementById('busy-stat');
  let busyMax = 0, busyMs = 0, busyTasks = 0, busySince = performance.now();
  function setBusy(v) {
    busyMax = Math.min(Math.max(Number(v) || 0, 0), 5000);
    busyMs = 0;
    busyTasks = 0;
    busySince = performance.now();
    busyStat.textContent = '';
  }
  const busyParam = new URL(location.href).searchParams.get('busy');
  if (busyParam !== null) {
    if (![...busySel.options].some((o) => o.value === busyParam)) busySel.append(new Option('long tasks up to ' + busyParam + ' ms', busyParam));
    busySel.value = busyParam;
  }
  setBusy(busySel.value);
  busySel.addEventListener('change', () => {
    setBusy(busySel.value);
    const u = new URL(location.href);
    if (busyMax > 0) u.searchParams.set('busy', String(busyMax)); else u.searchParams.delete('busy');
    history.replaceState(null, '', u.toString());
  });
  function longTask() {
    if (busyMax > 0) {
      const t0 = performance.now();
      const end = t0 + Math.random() * busyMax;
      while (performance.now() < end) { /* busy, as a heavy page is */ }
      busyMs += performance.now() - t0;
      busyTasks++;
      busyStat.textContent = busyTasks + ' long tasks, busy ' + Math.round(100 * busyMs / (performance.now() - busySince)) + '% of the time';
    }
    setTimeout(longTask, 150 + Math.random() * 250);
  }
  setTimeout(longTask, 150 + Math.random() * 250);

  // Arrival time of the previous message that counts for spacing (the
  // server says which do).
  let prev = null;
  let queue = Promise.resolve();

  // Listen before the component loads, so no message is missed.
  window.addEventListener('message', (ev) => {
    const at = performance.now();
    const a = {
      data: typeof ev.data === 'string' ? ev.data : '',
      dataType: ev.data === null ? 'null' : typeof ev.data,
      origin: ev.origin,
      fromFrame: ev.source !== null && ev.source === frame.contentWindow,
      component: componentURL,
      channel: channel(),
      at: at,
    };
    if (typeof ev.data !== 'string') a.preview = preview(ev.data);
    queue = queue.then(() => forward(a));
  });
  frame.src = componentURL;

  function preview(v) {
    try { return JSON.stringify(v) ?? String(v); } catch (e) { return String(v); }
  }

  async function forward(a) {
    a.prev = prev;
    let v;
    try {
      const res = await fetch('/api/check', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(a),
      });
      if (!res.ok) throw new Error(res.status + ' ' + (await res.text()));
      v = await res.json();
    } catch (e) {
      v = { ok: false, counts: false, gap: null, problems: [{ kind: 'sim', rule: 'the sim server did not answer: ' + e.message }] };
    }
    if (v.counts) prev = a.at;
    if (v.ok) accept(a, v); else refuse(a, v);
  }

  function clock() {
    return new Date().toLocaleTimeString([], { hour12: false });
  }

  function gapText(v) {
    return v.gap === null || v.gap === undefined ? 'first message' : '+' + v.gap.toFixed(1) + ' ms';
  }

  function setCount(name) {
    counts[name]++;
    document.getElementById(name + '-count').textContent = String(counts[name]);
  }

  function accept(a, v) {
    setCount('accepted');
    document.getElementById('empty').hidden = true;
    const m = v.message;
    const li = el('li', 'msg');
    li.dataset.type = m.type;
    const bubble = el('div', 'bubble');
    switch (m.type) {
      case 'text': bubble.append(el('div', 'text', m.text)); break;
      case 'rich': bubble.append(richFrame(m.html)); break;
      case 'product': bubble.append(productCard(m.product)); bubble.classList.add('card-bubble'); break;
      case 'miniprogrampage': bubble.append(miniProgramCard(m.miniprogram)); bubble.classList.add('card-bubble'); break;
    }
    li.append(bubble, el('div', 'meta', m.type + ' · ' + clock() + ' · ' + gapText(v)));
    conversation.append(li);
    li.scrollIntoView({ block: 'end' });

    const entry = el('li', 'entry accepted');
    entry.append(el('div', 'head', '✓ accepted ' + m.type + ' · ' + gapText(v)));
    log.append(entry);
    entry.scrollIntoView({ block: 'end' });
  }

  function refuse(a, v) {
    setCount('refused');
    const entry = el('li', 'entry refused');
    entry.dataset.kinds = v.problems.map((p) => p.kind).join(',');
    entry.append(el('div', 'head', '✗ refused' + (v.type ? ' ' + v.type : '') + ' · ' + gapText(v) + ' · ' + clock()));
    for (const p of v.problems) {
      const row = el('div', 'problem');
      row.dataset.kind = p.kind;
      row.append(el('span', 'kind', p.kind));
      if (p.field) row.append(el('code', 'field', p.field));
      row.append(el('span', 'rule', p.rule));
      entry.append(row);
    }
    entry.append(el('pre', 'raw', a.dataType === 'string' ? a.data : '(' + a.dataType + ') ' + (a.preview || '')));
    log.append(entry);
    entry.scrollIntoView({ block: 'end' });
  }

  // richFrame draws untrusted HTML in a srcdoc frame sandboxed without
  // allow-scripts: no script, handler or javascript: URL in it runs (its
  // CSP, inherited from this page, says the same twice). allow-same-origin
  // only lets this page reach in to size the frame and to show where the
  // data-miniprogram-path elements would navigate.
  function richFrame(html) {
    const f = document.createElement('iframe');
    f.className = 'rich';
    f.setAttribute('sandbox', 'allow-same-origin');
    f.setAttribute('title', 'rich message');
    f.srcdoc = '<!doctype html><meta charset="utf-8"><style>body{margin:0;font:14px/1.45 system-ui,sans-serif;color:#1d2129;word-wrap:break-word}' +
      'img{max-width:100%}[data-miniprogram-path]{color:#1a73e8;cursor:pointer;text-decoration:underline}' +
      '.sim-mp{display:inline-block;margin-left:4px;padding:0 5px;border-radius:8px;background:#e8f5e9;color:#1b5e20;font:11px system-ui,sans-serif;text-decoration:none}</style>' +
      html;
    f.addEventListener('load', () => {
      const doc = f.contentDocument;
      if (!doc) return;
      for (const node of doc.querySelectorAll('[data-miniprogram-path]')) {
        const path = node.getAttribute('data-miniprogram-path');
        const badge = doc.createElement('span');
        badge.className = 'sim-mp';
        badge.textContent = '↪ mini program: ' + path;
        node.after(badge);
        node.setAttribute('title', 'opens mini-program page ' + path);
        node.addEventListener('click', (e) => { e.preventDefault(); note('customer tapped a link: the client would open mini-program page ' + path); });
      }
      f.style.height = Math.min(doc.documentElement.scrollHeight + 2, 600) + 'px';
    });
    return f;
  }

  function image(src, cls, label) {
    const img = document.createElement('img');
    img.className = cls;
    img.alt = label;
    img.referrerPolicy = 'no-referrer';
    img.addEventListener('error', () => {
      const ph = el('div', cls + ' broken', label);
      ph.title = 'image did not load: ' + src;
      img.replaceWith(ph);
    });
    if (/^https?:\/\//i.test(src)) img.src = src;
    return img;
  }

  function productCard(p) {
    const card = el('div', 'card product');
    card.append(image(p.imgUrl, 'product-img', 'product image'));
    const info = el('div', 'product-info');
    info.append(el('div', 'product-name', p.name));
    const params = el('div', 'params');
    for (const pp of p.params) {
      const s = el('span', 'param', pp.text);
      s.style.color = pp.color;
      s.style.fontSize = pp.size + 'px';
      s.style.fontWeight = pp.bold ? '700' : '400';
      params.append(s);
      if (pp.break) params.append(document.createElement('br'));
    }
    info.append(params);
    if (p.link === 'web' && /^https?:\/\//i.test(p.url)) {
      const a = el('a', 'product-link', p.url);
      a.href = p.url;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      info.append(a);
    } else if (p.link === 'miniprogram') {
      const mp = el('button', 'product-link mp-path', '↪ mini program: ' + p.url);
      mp.type = 'button';
      mp.addEventListener('click', () => note('customer tapped the card: wx.miniProgram.navigateTo ' + p.url));
      info.append(mp);
    } else {
      info.append(el('div', 'product-link none', 'not clickable (no url)'));
    }
    card.append(info);
    return card;
  }

  function miniProgramCard(m) {
    const card = el('div', 'card miniprogram');
    card.append(el('div', 'mp-brand', '◎ Mini Program'));
    card.append(el('div', 'mp-title', m.title));
    if (m.picUrl) {
      card.append(image(m.picUrl, 'mp-pic', 'card picture'));
    } else {
      card.append(el('div', 'mp-pic broken', 'thumb_media_id ' + m.thumbMediaId));
    }
    card.append(el('div', 'mp-path', '↪ ' + m.pagepath));
    return card;
  }

  // The wsbridge demo: the form sends a wire string to the sim, which
  // decodes it and sends it with RateLimited(hub.Sender(...)) through the
  // bridge page in the frame; the message then arrives here like any other.
  const hubPanel = document.getElementById('hub-panel');
  if (hubPanel) {
    const samples = {
      text: { method: 'sendMsg', type: 'text', content: 'Sent from Go through wsbridge.' },
      rich: { method: 'sendMsg', type: 'rich', content: '<p>Sent from <b>Go</b>: <a data-miniprogram-path="pages/index/index">open the mini program</a></p>' },
      product: { method: 'sendMsg', type: 'product', content: { name: 'Wireless earbuds', url: 'https://shop.example.com/p/42', imgUrl: location.origin + '/static/product.svg',
        params: [{ text: '¥299.00', color: '#FF0000', fold: true }, { text: 'free shipping', color: '#1B8A3A' }] } },
      miniprogrampage: { method: 'sendMsg', type: 'miniprogrampage', content: { title: 'Your order', pagepath: 'pages/order/detail?id=7', pic_url: location.origin + '/static/card.svg' } },
    };
    const typeSel = document.getElementById('hub-type');
    const wire = document.getElementById('hub-wire');
    const status = document.getElementById('hub-status');
    const fill = () => { wire.value = JSON.stringify(samples[typeSel.value]); };
    typeSel.addEventListener('change', fill);
    fill();
    document.getElementById('hub-send').addEventListener('click', async () => {
      status.className = '';
      status.textContent = 'sending…';
      try {
        const res = await fetch('/api/wsbridge/send', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ wire: wire.value }),
        });
        if (!res.ok) throw new Error(res.status + ' ' + (await res.text()));
        const r = await res.json();
        status.className = r.ok ? 'ok' : 'bad';
        status.textContent = (r.ok ? 'sent: the bridge page posted it and acknowledged' : r.error) + (r.route ? ' (' + r.route + ')' : '');
      } catch (e) {
        status.className = 'bad';
        status.textContent = 'the sim server did not answer: ' + e.message;
      }
    });
  }

  function note(text) {
    const entry = el('li', 'entry note', 'ⓘ ' + text);
    log.append(entry);
    entry.scrollIntoView({ block: 'end' });
  }
})();
