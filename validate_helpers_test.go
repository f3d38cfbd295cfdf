package assistant

import (
	"errors"
	"strings"
	"testing"
)

// validationCase is one message and the rule it must break ("" = valid).
type validationCase struct {
	name  string
	msg   Message
	field string // "" means the message is valid
	rule  string // substring of the rule
}

func runValidation(t *testing.T, cases []validationCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.msg.Validate()
			if c.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate() = %v, want a *ValidationError matching ErrInvalid", err)
			}
			if ve.Type != c.msg.Type() || ve.Field != c.field || !strings.Contains(ve.Rule, c.rule) {
				t.Errorf("Validate() = %#v, want type %q field %q rule containing %q", ve, c.msg.Type(), c.field, c.rule)
			}
			if !strings.Contains(err.Error(), c.field) {
				t.Errorf("error text %q does not name the field", err)
			}
			if _, err := Encode(c.msg); !errors.As(err, &ve) {
				t.Errorf("Encode of an invalid message = %v, want its validation error", err)
			}
		})
	}
}
