package assistant_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/imworkspace/assistant"
)

type classified struct{ d assistant.Delivery }

func (c classified) Error() string                { return "classified" }
func (c classified) Delivery() assistant.Delivery { return c.d }

func TestDeliveryOf(t *testing.T) {
	marked := assistant.WithDelivery(context.Canceled, assistant.NotDelivered)
	for _, tc := range []struct {
		name string
		err  error
		want assistant.Delivery
	}{
		{"nil", nil, assistant.Delivered},
		{"plain", io.EOF, assistant.MaybeDelivered},
		{"ctx unmarked", context.DeadlineExceeded, assistant.MaybeDelivered},
		{"marked", marked, assistant.NotDelivered},
		{"wrapped mark", fmt.Errorf("x: %w", marked), assistant.NotDelivered},
		{"outermost wins", assistant.WithDelivery(classified{assistant.Rejected}, assistant.MaybeDelivered), assistant.MaybeDelivered},
		{"inner method", fmt.Errorf("y: %w", classified{assistant.Rejected}), assistant.Rejected},
		{"joined: first", errors.Join(classified{assistant.NotDelivered}, classified{assistant.Rejected}), assistant.NotDelivered},
		{"validation", assistant.NewText("").Validate(), assistant.Rejected},
		{"error says delivered", classified{assistant.Delivered}, assistant.MaybeDelivered},
		{"marked delivered", assistant.WithDelivery(io.EOF, assistant.Delivered), assistant.MaybeDelivered},
		{"unknown class", classified{assistant.Delivery(7)}, assistant.MaybeDelivered},
	} {
		if got := assistant.DeliveryOf(tc.err); got != tc.want {
			t.Errorf("%s: DeliveryOf(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

func TestWithDeliveryKeepsError(t *testing.T) {
	if assistant.WithDelivery(nil, assistant.NotDelivered) != nil {
		t.Fatal("WithDelivery(nil) != nil")
	}
	err := assistant.WithDelivery(fmt.Errorf("send: %w", context.Canceled), assistant.NotDelivered)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("%v does not match context.Canceled", err)
	}
	if err.Error() != "send: context canceled" {
		t.Errorf("text %q", err.Error())
	}
}

func TestDeliveryString(t *testing.T) {
	for d, want := range map[assistant.Delivery]string{
		assistant.MaybeDelivered: "maybe_delivered",
		assistant.Delivered:      "delivered",
		assistant.NotDelivered:   "not_delivered",
		assistant.Rejected:       "rejected",
		assistant.Delivery(9):    "Delivery(9)",
	} {
		if got := d.String(); got != want {
			t.Errorf("%d: %q, want %q", int(d), got, want)
		}
	}
}
