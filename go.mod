module github.com/imworkspace/assistant

go 1.26.0

require (
	github.com/Masterminds/semver/v3 v3.5.0 // indirect
	github.com/google/go-cmp v0.7.0 // indirect
	golang.org/x/time v0.16.0 // indirect
)
