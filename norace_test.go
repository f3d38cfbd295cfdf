//go:build !race

package assistant

const raceEnabled = false
