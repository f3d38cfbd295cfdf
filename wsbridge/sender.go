//go:build !js

package wsbridge

import (
	"context"
	"fmt"

	"github.com/imworkspace/assistant"
)

type pageSender struct {
	hub *Hub
	id  string
}

func (s *pageSender) Send(ctx context.Context, m assistant.Message) error {
	data, err := assistant.Encode(m)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := s.hub.lookup(s.id)
	if err != nil {
		return fmt.Errorf("wsbridge: page %q: %w", s.id, err)
	}
	return c.send(ctx, data)
}
