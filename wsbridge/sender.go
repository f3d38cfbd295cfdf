//go:build !js

package wsbridge

import (
	"context"
	"errors"
	"fmt"

	"github.com/imworkspace/assistant"
)

type pageSender struct {
	hub *Hub
	id  string
}

func (s *pageSender) Send(ctx context.Context, m assistant.Message) error {
	data, err := assistant.Encode(m)
	if errors.Is(err, assistant.ErrTooLarge) {
		// Encode applies the same limit: refuse as below.
		return pageErr(s.id, fmt.Errorf("%w: %w", ErrTooLarge, err))
	}
	if err != nil {
		return err
	}
	if len(data) > MaxMessageSize {
		// The bridge would refuse it: do not hold the page's turn for it.
		return pageErr(s.id, fmt.Errorf("%w: %d bytes encoded, limit %d", ErrTooLarge, len(data), MaxMessageSize))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := s.hub.lookup(s.id)
	if err != nil {
		return pageErr(s.id, err)
	}
	return c.send(ctx, data)
}
