package entra

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

// ReadClaims decodes the claims of a JWT into v without verifying its signature. Use it only to
// explain, key or schedule (who a token names, when it expires), never to trust: only the service
// that accepts a token can verify it. Numbers decode as json.Number into interface values.
func ReadClaims(token string, v any) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return errors.New("it is not a JWT: a JWT has three parts separated by dots")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return errors.New("its claims are not base64url")
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return errors.New("its claims are not a JSON object of the expected form")
	}
	return nil
}
