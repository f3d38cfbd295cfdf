package assistant

import (
	"errors"
	"strconv"
)

// Delivery is what a Send's outcome means for its message: whether it
// reached the host, and so whether sending it again is safe. Read it from
// any error with [DeliveryOf].
type Delivery int

const (
	// MaybeDelivered is the zero value: the message may have reached the
	// host (a cut connection while waiting for an acknowledgement, a
	// context that ended after the message left). Sending it again may
	// show it twice; look at your own records, or accept the risk.
	MaybeDelivered Delivery = iota
	// Delivered: the host got the message, once. Only a nil error.
	Delivered
	// NotDelivered: the message certainly did not reach the host, and
	// sending it again (later, or elsewhere) is safe. Used, as
	// database/sql's driver.ErrBadConn is, only where that is certain.
	NotDelivered
	// Rejected: the message did not reach the host, and sending it again
	// unchanged fails the same way (invalid, too large, not allowed on
	// the channel, refused by the host's page).
	Rejected
)

// String returns the constant's name in lower case ("maybe_delivered",
// "delivered", "not_delivered", "rejected"), as metrics and logs use it.
func (d Delivery) String() string {
	switch d {
	case MaybeDelivered:
		return "maybe_delivered"
	case Delivered:
		return "delivered"
	case NotDelivered:
		return "not_delivered"
	case Rejected:
		return "rejected"
	}
	return "Delivery(" + strconv.Itoa(int(d)) + ")"
}

// DeliveryOf classifies the error a [Sender]'s Send returned. nil is
// [Delivered]. Otherwise the outermost error in err's tree with a method
// Delivery() Delivery (found with errors.As) decides; an error without
// one is [MaybeDelivered], since nothing says the message did not go. So
// is an error whose method says Delivered, or a value not declared here:
// only nil is Delivered, and only a known class can promise more.
//
// Every error this module's Senders return carries its class, and keeps
// matching its sentinels and ctx.Err() with errors.Is. A transport marks
// its own errors with [WithDelivery] or by giving its error types the
// method.
func DeliveryOf(err error) Delivery {
	if err == nil {
		return Delivered
	}
	var c interface{ Delivery() Delivery }
	if errors.As(err, &c) {
		if d := c.Delivery(); d == NotDelivered || d == Rejected {
			return d
		}
	}
	return MaybeDelivered
}

// WithDelivery returns err marked with d: [DeliveryOf] reports d (but
// MaybeDelivered for Delivered, which only nil is), and
// errors.Is and errors.As see err as before (the result unwraps to it), with
// the same text. It returns nil for a nil err: a nil error always means
// Delivered.
func WithDelivery(err error, d Delivery) error {
	if err == nil {
		return nil
	}
	return &deliveryError{err: err, d: d}
}

type deliveryError struct {
	err error
	d   Delivery
}

func (e *deliveryError) Error() string      { return e.err.Error() }
func (e *deliveryError) Unwrap() error      { return e.err }
func (e *deliveryError) Delivery() Delivery { return e.d }
