package assistant

import "strconv"

// MaxParamSize is the largest font size, in px, a ProductParam may ask for.
// Larger values are almost surely bugs, and far larger ones would not
// survive JavaScript's float64 numbers unchanged.
const MaxParamSize = 1000

// Product is a product card: image, name and a list of styled text
// segments, optionally clickable. It may be sent on Web channels and on SDK
// channels from SDK 5.1 (see [DefaultRules]).
type Product struct {
	// Name is the product name; required.
	Name string
	// URL is opened when the card is clicked; empty makes the card not
	// clickable. An absolute http(s) URL opens in a browser; a path such as
	// "/pages/product/detail" is opened with wx.miniProgram.navigateTo when
	// the customer's client runs in a Mini Program web-view.
	URL string
	// ImgURL is the absolute http(s) URL of the card image; required (the
	// iOS SDK renders a broken card without it).
	ImgURL string
	// Params are the text segments under the name, in order.
	Params []ProductParam
}

// ProductParam is one styled text segment of a [Product] card. Zero values
// of the optional fields are the host's defaults and are omitted on the wire.
type ProductParam struct {
	Text  string // required; Android skips empty segments
	Color string // "#RRGGBB"; empty means the default, #000000
	Fold  bool   // bold
	Break bool   // line break after the segment
	Size  int    // font size in px, 1 to MaxParamSize; 0 means the default, 12
}

// NewProduct returns a Product card.
func NewProduct(name, url, imgURL string, params ...ProductParam) Product {
	return Product{Name: name, URL: url, ImgURL: imgURL, Params: params}
}

// Type returns "product".
func (Product) Type() string { return TypeProduct }

// Validate reports the first broken rule: name and imgUrl required, URLs
// well-formed (url an http(s) URL or a path without scheme), no control
// characters, params with text, "#RRGGBB" colors and sizes in range.
func (p Product) Validate() error {
	if p.Name == "" {
		return invalid(TypeProduct, "name", "is required")
	}
	if r := checkChars(p.Name, singleLine); r != "" {
		return invalid(TypeProduct, "name", r)
	}
	if p.URL != "" {
		if r := checkProductURL(p.URL); r != "" {
			return invalid(TypeProduct, "url", r)
		}
	}
	if p.ImgURL == "" {
		return invalid(TypeProduct, "imgUrl", "is required")
	}
	if r := checkHTTPURL(p.ImgURL); r != "" {
		return invalid(TypeProduct, "imgUrl", r)
	}
	for i := range p.Params {
		if field, r := p.Params[i].check(); r != "" {
			return invalid(TypeProduct, "params["+strconv.Itoa(i)+"]."+field, r)
		}
	}
	return nil
}

func (pp *ProductParam) check() (field, rule string) {
	if pp.Text == "" {
		return "text", "is required"
	}
	if r := checkChars(pp.Text, singleLine); r != "" {
		return "text", r
	}
	if pp.Color != "" && !isHexColor(pp.Color) {
		return "color", `must be a hex color like "#FF0000"`
	}
	if pp.Size < 0 || pp.Size > MaxParamSize {
		return "size", "must be from 1 to " + strconv.Itoa(MaxParamSize) + " (0 for the default)"
	}
	return "", ""
}

func (p Product) appendContent(dst []byte) []byte {
	dst = append(dst, `{"name":`...)
	dst = appendString(dst, p.Name)
	if p.URL != "" {
		dst = append(dst, `,"url":`...)
		dst = appendString(dst, p.URL)
	}
	dst = append(dst, `,"imgUrl":`...)
	dst = appendString(dst, p.ImgURL)
	if len(p.Params) > 0 {
		dst = append(dst, `,"params":[`...)
		for i := range p.Params {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = p.Params[i].appendJSON(dst)
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

func (pp *ProductParam) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"text":`...)
	dst = appendString(dst, pp.Text)
	if pp.Color != "" {
		dst = append(dst, `,"color":`...)
		dst = appendString(dst, pp.Color)
	}
	if pp.Fold {
		dst = append(dst, `,"fold":true`...)
	}
	if pp.Break {
		dst = append(dst, `,"break":true`...)
	}
	if pp.Size != 0 {
		dst = append(dst, `,"size":`...)
		dst = strconv.AppendInt(dst, int64(pp.Size), 10)
	}
	return append(dst, '}')
}
