package assistant

import "strconv"

// The decoders of the two object contents, product and miniprogrampage:
// each refuses an unknown or repeated key as soon as it reads it.

func (d *decoder) product() (Message, error) {
	const typ = TypeProduct
	if err := d.object(typ, "content"); err != nil {
		return nil, err
	}
	var p Product
	err := d.fields(typ, []string{"name", "url", "imgUrl", "params"}, func(i int) (err error) {
		switch i {
		case 0:
			p.Name, err = d.str(typ, "name")
		case 1:
			p.URL, err = d.str(typ, "url")
		case 2:
			p.ImgURL, err = d.str(typ, "imgUrl")
		case 3:
			p.Params, err = d.params()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (d *decoder) params() ([]ProductParam, error) {
	const typ = TypeProduct
	k, err := d.next()
	if err != nil {
		return nil, err
	}
	if k != '[' {
		return nil, invalid(typ, "params", "must be an array, not "+kindName(k))
	}
	// Counting first (a syntax check that allocates nothing) sizes the
	// slice once: appending would allocate about twice as much.
	n, err := d.count()
	if err != nil {
		return nil, err
	}
	var params []ProductParam // an empty array decodes as nil
	if n > 0 {
		params = make([]ProductParam, n)
	}
	if err := d.open(); err != nil {
		return nil, err
	}
	for i := range params {
		if _, err := d.more(']', i == 0); err != nil {
			return nil, err
		}
		if err := d.param(&params[i], i); err != nil {
			return nil, err
		}
	}
	if _, err := d.more(']', n == 0); err != nil {
		return nil, err
	}
	return params, nil
}

// param reads params[i]. Its errors name fields relative to the param;
// the prefix is added only on error, so a valid param allocates no names.
func (d *decoder) param(pp *ProductParam, i int) (err error) {
	const typ = TypeProduct
	defer func() {
		if ve, ok := err.(*ValidationError); ok {
			name := "params[" + strconv.Itoa(i) + "]"
			if ve.Field != "" {
				name += "." + ve.Field
			}
			ve.Field = name
		}
	}()
	if err := d.object(typ, ""); err != nil {
		return err
	}
	return d.fields(typ, []string{"text", "color", "fold", "break", "size"}, func(i int) (err error) {
		switch i {
		case 0:
			pp.Text, err = d.str(typ, "text")
		case 1:
			pp.Color, err = d.str(typ, "color")
		case 2:
			pp.Fold, err = d.boolean(typ, "fold")
		case 3:
			pp.Break, err = d.boolean(typ, "break")
		case 4:
			pp.Size, err = d.size("size")
		}
		return err
	})
}

// size reads a param's font size: an integer from 1 to MaxParamSize.
func (d *decoder) size(field string) (int, error) {
	bad := invalid(TypeProduct, field, "must be an integer from 1 to "+strconv.Itoa(MaxParamSize))
	k, err := d.next()
	if err != nil {
		return 0, err
	}
	if k != '0' {
		return 0, bad
	}
	num, err := d.number()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range num {
		if c < '0' || c > '9' || n > MaxParamSize {
			return 0, bad
		}
		n = n*10 + int(c-'0')
	}
	if n < 1 || n > MaxParamSize {
		return 0, bad
	}
	return n, nil
}

func (d *decoder) miniProgramPage() (Message, error) {
	const typ = TypeMiniProgramPage
	if err := d.object(typ, "content"); err != nil {
		return nil, err
	}
	var p MiniProgramPage
	err := d.fields(typ, []string{"title", "pagepath", "thumb_media_id", "pic_url"}, func(i int) (err error) {
		switch i {
		case 0:
			p.Title, err = d.str(typ, "title")
		case 1:
			p.PagePath, err = d.str(typ, "pagepath")
		case 2:
			p.ThumbMediaID, err = d.str(typ, "thumb_media_id")
		case 3:
			p.PicURL, err = d.str(typ, "pic_url")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// fields reads the members of an object that d.object opened, up to its
// end: each key must be one of keys (at most 64 of them), at most once, and
// read(i) reads the value of keys[i]. It stops at the first error.
func (d *decoder) fields(typ string, keys []string, read func(i int) error) error {
	var seen uint64
	for first := true; ; first = false {
		key, ok, err := d.member(first)
		if err != nil || !ok {
			return err
		}
		i := lookup(key, keys)
		if i < 0 {
			return unknownKey(typ, key)
		}
		if seen&(1<<i) != 0 {
			return invalid(typ, string(key), "appears twice")
		}
		seen |= 1 << i
		if err := read(i); err != nil {
			return err
		}
	}
}
