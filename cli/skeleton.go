package cli

import (
	"github.com/swfd/swfd/api"
)

// inputSkeleton builds the value --generate-cli-skeleton prints: every
// member in model order, strings empty (an enum's first value), numbers 0,
// booleans true, lists of one element.
func inputSkeleton(sh *api.Shape) any {
	return skeleton(sh, "", false, map[string]int{})
}

// outputSkeleton builds the sample --generate-cli-skeleton output prints:
// like the input skeleton, but strings hold their member name (a list
// element its shape name) and timestamps the epoch as text.
func outputSkeleton(sh *api.Shape) any {
	return skeleton(sh, "", true, map[string]int{})
}

func skeleton(sh *api.Shape, name string, names bool, stack map[string]int) any {
	stack[sh.Name]++
	defer func() { stack[sh.Name]-- }()
	switch sh.Type {
	case "structure":
		o := newOmap()
		if stack[sh.Name] > 1 {
			return o
		}
		for _, m := range members(sh) {
			o.set(m.Name, skeleton(shape(m.Shape), m.Name, names, stack))
		}
		return o
	case "list":
		elemName := ""
		if names {
			elemName = sh.Member
		}
		return []any{skeleton(shape(sh.Member), elemName, names, stack)}
	case "string":
		if names {
			return name
		}
		if len(sh.Enum) > 0 {
			return sh.Enum[0]
		}
		return ""
	case "integer", "long":
		return 0
	case "boolean":
		return true
	case "timestamp":
		return "1970-01-01T00:00:00"
	}
	return nil
}
