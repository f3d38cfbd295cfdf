package assistant

import (
	"context"
	"maps"
)

// Sender delivers messages to the workspace host.
//
// An implementation must:
//   - deliver exactly the bytes [Encode] returns for m, once, or return an
//     error; an invalid m returns its validation error and delivers nothing;
//   - honour ctx: once ctx is done, return an error that wraps ctx.Err()
//     unless the message was already delivered; validate m first, so an
//     invalid m gets its validation error even with a done ctx;
//   - be safe for concurrent use, delivering each message whole;
//   - return transport failures as errors, never drop silently;
//   - classify every error it returns for [DeliveryOf]: nil only when the
//     host got the message once; [NotDelivered] only when it certainly did
//     not (a ctx done before anything was sent is one); [Rejected] for a
//     message that fails the same way whenever it is sent (invalid ones);
//     unmarked, [MaybeDelivered], whenever the message may have arrived.
//     Wrapping keeps the class of the wrapped error.
//
// Package assistanttest checks these rules for any Sender (TestSender).
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SenderFunc adapts a function to the Sender interface.
type SenderFunc func(ctx context.Context, m Message) error

// Send calls f(ctx, m).
func (f SenderFunc) Send(ctx context.Context, m Message) error { return f(ctx, m) }

// ForChannel returns a Sender that refuses, with a *NotAllowedError
// ([Rejected]), every message ch cannot carry under [DefaultRules], and
// passes the others to s, returning s's error as it is. Around a nil s,
// every Send returns an error, [Rejected].
// Put it outside RateLimited so a refusal uses no slot:
//
//	s := ForChannel(RateLimited(transport), ch)
func ForChannel(s Sender, ch Channel) Sender {
	return &channelSender{next: s, ch: ch, rules: defaultRules()}
}

// ForChannel is like the package-level [ForChannel] but applies r. It
// copies r, so changing r afterwards does not change the returned Sender.
// (An Allow's *semver.Constraints is shared: treat it as immutable.)
func (r Rules) ForChannel(s Sender, ch Channel) Sender {
	return &channelSender{next: s, ch: ch, rules: maps.Clone(r)}
}

type channelSender struct {
	next  Sender
	ch    Channel
	rules Rules
}

func (c *channelSender) Send(ctx context.Context, m Message) error {
	if c.next == nil {
		return errNilSender
	}
	if err := c.rules.Check(c.ch, m); err != nil {
		return err
	}
	return c.next.Send(ctx, m)
}
