//go:build js && wasm

package main

import (
	"errors"

	"github.com/imworkspace/assistant/postmessage"
)

// isWrongParent reports whether err is postmessage's refusal to post to a
// parent that is not the target origin (issue 21).
func isWrongParent(err error) bool {
	var wp *postmessage.WrongParentError
	return errors.Is(err, postmessage.ErrWrongParent) && errors.As(err, &wp)
}
