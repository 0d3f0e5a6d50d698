package api

// DecodeSlow decodes a request the way Decode did before assign: validate,
// write the validated value as JSON, read it back with encoding/json.
func DecodeSlow(o OperationInfo, body []byte) (any, error) {
	clean, err := validate(o.Input, body)
	if err != nil {
		return nil, err
	}
	return o.decodeSlow(clean)
}
