//go:build !wrongparent

package postmessage_test

// wrongParentCheck says whether postmessage checks the parent's origin
// before each post (issue 21; build with -tags wrongparent once it has).
const wrongParentCheck = false

// componentTags are the build tags of testdata/component.
var componentTags []string
