package main

import (
	"context"
	"io"
)

func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) int { return exitUsage }
