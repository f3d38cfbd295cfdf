package assistant

// MiniProgramPage is a mini-program card, WeChat's customer-service
// "miniprogrampage" message. It may be sent on Mini Program channels only.
type MiniProgramPage struct {
	// Title of the card; required.
	Title string
	// PagePath is the mini-program page to open, such as
	// "pages/index/index?foo=bar"; required.
	PagePath string
	// ThumbMediaID is the media id of an uploaded card image (WeChat keeps
	// it 3 days; 520×416 is recommended). ThumbMediaID or PicURL is required.
	ThumbMediaID string
	// PicURL is an absolute http(s) image URL the host uploads for you.
	PicURL string
}

// NewMiniProgramPage returns a card that shows the image at picURL. Set
// ThumbMediaID instead (or as well) when the image is already uploaded.
func NewMiniProgramPage(title, pagePath, picURL string) MiniProgramPage {
	return MiniProgramPage{Title: title, PagePath: pagePath, PicURL: picURL}
}

// Type returns "miniprogrampage".
func (MiniProgramPage) Type() string { return TypeMiniProgramPage }

// Validate reports the first broken rule: title and pagepath required, a
// page path without scheme, one of thumb_media_id and pic_url, pic_url an
// http(s) URL, no control characters.
func (p MiniProgramPage) Validate() error {
	const typ = TypeMiniProgramPage
	if p.Title == "" {
		return invalid(typ, "title", "is required")
	}
	if r := checkChars(p.Title, singleLine); r != "" {
		return invalid(typ, "title", r)
	}
	if p.PagePath == "" {
		return invalid(typ, "pagepath", "is required")
	}
	if r := checkPath(p.PagePath); r != "" {
		return invalid(typ, "pagepath", r)
	}
	if p.ThumbMediaID == "" && p.PicURL == "" {
		return invalid(typ, "thumb_media_id", "or pic_url is required")
	}
	if r := checkChars(p.ThumbMediaID, singleLine); r != "" {
		return invalid(typ, "thumb_media_id", r)
	}
	if p.PicURL != "" {
		if r := checkHTTPURL(p.PicURL); r != "" {
			return invalid(typ, "pic_url", r)
		}
	}
	return nil
}

func (p MiniProgramPage) appendContent(dst []byte) []byte {
	dst = append(dst, `{"title":`...)
	dst = appendString(dst, p.Title)
	dst = append(dst, `,"pagepath":`...)
	dst = appendString(dst, p.PagePath)
	if p.ThumbMediaID != "" {
		dst = append(dst, `,"thumb_media_id":`...)
		dst = appendString(dst, p.ThumbMediaID)
	}
	if p.PicURL != "" {
		dst = append(dst, `,"pic_url":`...)
		dst = appendString(dst, p.PicURL)
	}
	return append(dst, '}')
}
