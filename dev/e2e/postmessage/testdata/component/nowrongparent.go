//go:build js && wasm && !wrongparent

package main

// isWrongParent is false without the wrongparent tag: postmessage has no
// wrong-parent check before issue 21.
func isWrongParent(error) bool { return false }
