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

// NoNULShapes reports, for each shape that noNUL names, whether the
// constraint table has it as a string.
func NoNULShapes() map[string]bool {
	m := map[string]bool{}
	for name := range noNUL {
		s, ok := shapes[name]
		m[name] = ok && s.Type == "string"
	}
	return m
}
