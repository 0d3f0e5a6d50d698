package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The AWS CLI reads some settings from the profile in the shared config
// file (~/.aws/config) that the SDK does not give swf: output, the
// endpoint (endpoint_url, or a services section), and whether to ignore
// configured endpoints (ignore_configured_endpoint_urls). sharedConfig
// reads them the way botocore reads that file.

// iniFile is a parsed config file: section name, then key, then value. A
// value given on indented lines after "key =" holds them, each after "\n".
type iniFile map[string]map[string]string

// parseINI parses a config file as Python's configparser does for
// botocore: [section] lines, "key = value" or "key: value" (keys in lower
// case), comment lines starting with # or ;, and indented lines
// continuing the previous value. As there, a file is refused (ok false)
// that has a line before any section, a line that is none of these, an
// empty key, or a section or a key (in one section) given twice.
func parseINI(data string) (f iniFile, ok bool) {
	f = iniFile{}
	var sec map[string]string
	key := ""
	for _, line := range strings.Split(data, "\n") {
		line = strings.TrimRight(line, "\r")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || trimmed[0] == '#' || trimmed[0] == ';' {
			continue
		}
		if sec != nil && key != "" && (line[0] == ' ' || line[0] == '\t') {
			sec[key] += "\n" + trimmed
			continue
		}
		if strings.HasPrefix(trimmed, "[") && strings.HasSuffix(trimmed, "]") {
			name := strings.TrimSpace(trimmed[1 : len(trimmed)-1])
			if f[name] != nil {
				return nil, false
			}
			f[name] = map[string]string{}
			sec, key = f[name], ""
			continue
		}
		i := strings.IndexAny(trimmed, "=:")
		if sec == nil || i < 0 {
			return nil, false
		}
		key = strings.ToLower(strings.TrimSpace(trimmed[:i]))
		if _, dup := sec[key]; dup || key == "" {
			return nil, false
		}
		sec[key] = strings.TrimSpace(trimmed[i+1:])
	}
	return f, true
}

// nested reads a value given as indented "key = value" lines.
func nested(v string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(v, "\n") {
		if k, val, ok := strings.Cut(line, "="); ok {
			m[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(val)
		}
	}
	return m
}

// sharedConfig is what swf takes from a profile of the config file.
type sharedConfig struct {
	output   string
	endpoint string // the services section's swf endpoint_url, else the profile's
	// ignoreEndpoints is the profile's ignore_configured_endpoint_urls
	// (see ignoreConfiguredEndpoints).
	ignoreEndpoints string
}

// loadSharedConfig reads the profile (the default one when "") from
// AWS_CONFIG_FILE or ~/.aws/config. A missing file or profile gives
// nothing; the SDK reports a missing named profile. A file that does not
// parse is an error, as it is for the AWS CLI.
func loadSharedConfig(e *env, profile string) (sharedConfig, error) {
	path := e.getenv("AWS_CONFIG_FILE")
	if path == "" {
		home := e.getenv("HOME")
		if home == "" {
			home, _ = os.UserHomeDir()
		}
		path = filepath.Join(home, ".aws", "config")
	} else if rest, ok := strings.CutPrefix(path, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			path = filepath.Join(home, rest)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return sharedConfig{}, nil
	}
	f, ok := parseINI(string(data))
	if !ok {
		return sharedConfig{}, fmt.Errorf("Unable to parse config file: %s", path)
	}
	if profile == "" {
		profile = "default"
	}
	sec := f["profile "+profile]
	if profile == "default" && f["default"] != nil {
		sec = f["default"]
	}
	if sec == nil {
		return sharedConfig{}, nil
	}
	sc := sharedConfig{output: sec["output"], endpoint: sec["endpoint_url"], ignoreEndpoints: sec["ignore_configured_endpoint_urls"]}
	if name := sec["services"]; name != "" {
		if svc := f["services "+name]; svc != nil {
			if ep := nested(svc["swf"])["endpoint_url"]; ep != "" {
				sc.endpoint = ep
			}
		}
	}
	return sc, nil
}
