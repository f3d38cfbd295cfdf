package sim_test

// rendering is what the workspace page drew for the accepted messages,
// read back from its DOM.
type rendering struct {
	Text       string
	Rich       richRendering
	Product    productRendering
	Mini       miniRendering
	Accepted   []string // data-type of each conversation entry
	RefusedLog []string // data-kinds of each refused log entry
}

type richRendering struct {
	Sandbox string // the frame's sandbox attribute
	Text    string // its body text, badges included
	Badge   string // the mini-program badge next to the data-miniprogram-path link
}

type productRendering struct {
	Name, ImgSrc, Link, LinkText string
	Params                       []paramRendering
}

type paramRendering struct {
	Text, Color, Weight, Size string
	BreakAfter                bool
}

type miniRendering struct {
	Title, PicSrc, Path string
}

const readRendering = `(() => {
	const q = (s, r) => (r || document).querySelector(s);
	const txt = (e) => e ? e.textContent : '<missing>';
	const rich = q('.msg[data-type=rich] iframe.rich');
	const rd = rich && rich.contentDocument;
	const prod = q('.msg[data-type=product] .product');
	const link = prod && q('.product-link', prod);
	const mini = q('.msg[data-type=miniprogrampage] .miniprogram');
	return {
		Text: txt(q('.msg[data-type=text] .text')),
		Rich: {
			Sandbox: rich ? rich.getAttribute('sandbox') : '<missing>',
			Text: rd ? rd.body.textContent : '<missing>',
			Badge: rd ? txt(q('[data-miniprogram-path] + .sim-mp', rd)) : '<missing>',
		},
		Product: prod ? {
			Name: txt(q('.product-name', prod)),
			ImgSrc: q('img.product-img', prod) ? q('img.product-img', prod).src : '<no img>',
			Link: link && link.href ? link.href : '',
			LinkText: txt(link),
			Params: [...prod.querySelectorAll('.param')].map((e) => {
				const cs = getComputedStyle(e);
				return { Text: e.textContent, Color: cs.color, Weight: cs.fontWeight, Size: cs.fontSize,
					BreakAfter: !!e.nextSibling && e.nextSibling.nodeName === 'BR' };
			}),
		} : {},
		Mini: mini ? {
			Title: txt(q('.mp-title', mini)),
			PicSrc: q('img.mp-pic', mini) ? q('img.mp-pic', mini).src : '<no img>',
			Path: txt(q('.mp-path', mini)),
		} : {},
		Accepted: [...document.querySelectorAll('#conversation .msg')].map((e) => e.dataset.type),
		RefusedLog: [...document.querySelectorAll('#log .entry.refused')].map((e) => e.dataset.kinds),
	};
})()`

// richReady reports whether the rich message frame has loaded and been
// annotated.
const richReady = `(() => {
	const f = document.querySelector('.msg[data-type=rich] iframe.rich');
	return !!f && !!f.contentDocument && f.contentDocument.readyState === 'complete' &&
		f.contentDocument.querySelector('.sim-mp') !== null;
})()`
