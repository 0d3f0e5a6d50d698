package cli

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
)

// The AWS CLI reads some settings from the profile in the shared config
// file (~/.aws/config) that the SDK does not give swf: output, the
// endpoint (endpoint_url, or a services section), whether to ignore
// configured endpoints (ignore_configured_endpoint_urls), and the CA
// bundle (ca_bundle). sharedConfig reads them the way botocore reads that
// file; sdkSharedFiles hands the SDK the same profiles.

// iniSection is one [section] of a config file: its name exactly as
// written between the brackets, and its keys in the order given. A value
// given on indented lines after "key =" holds them, each after "\n".
type iniSection struct {
	name string
	keys []string
	vals map[string]string
}

// iniFile is a parsed config file, its sections in the order written.
type iniFile struct {
	sections []*iniSection
}

// section returns the section of that exact name, or nil.
func (f *iniFile) section(name string) *iniSection {
	for _, s := range f.sections {
		if s.name == name {
			return s
		}
	}
	return nil
}

// parseINI parses a config file as Python's configparser does for
// botocore: [section] lines, "key = value" or "key: value" (keys in lower
// case), comment lines starting with # or ;, and lines indented deeper
// than their key's line continuing its value. A section's name is all
// between its line's "[" and the last "]", spaces included: "[ default ]"
// names " default ", which is no profile. As there, a file is refused (ok
// false) that has a line before any section, a line that is none of these,
// an empty key, or a section or a key (in one section) given twice.
func parseINI(data string) (f *iniFile, ok bool) {
	f = &iniFile{}
	var sec *iniSection
	key, keyIndent := "", 0
	for _, line := range strings.Split(data, "\n") {
		line = strings.TrimRight(line, "\r")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || trimmed[0] == '#' || trimmed[0] == ';' {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " \t\v\f"))
		if sec != nil && key != "" && indent > keyIndent {
			sec.vals[key] += "\n" + trimmed
			continue
		}
		if end := strings.LastIndexByte(trimmed, ']'); trimmed[0] == '[' && end > 1 {
			name := trimmed[1:end]
			if f.section(name) != nil {
				return nil, false
			}
			sec = &iniSection{name: name, vals: map[string]string{}}
			f.sections = append(f.sections, sec)
			key = ""
			continue
		}
		i := strings.IndexAny(trimmed, "=:")
		if sec == nil || i < 0 {
			return nil, false
		}
		key, keyIndent = strings.ToLower(strings.TrimSpace(trimmed[:i])), indent
		if _, dup := sec.vals[key]; dup || key == "" {
			return nil, false
		}
		sec.keys = append(sec.keys, key)
		sec.vals[key] = strings.TrimSpace(trimmed[i+1:])
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

// profileMap is a config file's sections as botocore names them: the
// profiles ("default", and NAME of "profile NAME"), the sso-session and
// the services sections.
type profileMap struct {
	profiles, ssoSessions, services map[string]*iniSection
}

// profilesOf sorts a config file's sections as botocore does. A section
// whose name starts with "profile", "sso-session" or "services" is split
// into words as a POSIX shell splits them; it counts when that makes two
// words, the second its name ("profile  a", "profile \"a\"": a). The
// section named exactly "default" is the default profile too; of it and
// "profile default", the one written last counts. Any other section is
// ignored.
func profilesOf(f *iniFile) profileMap {
	m := profileMap{profiles: map[string]*iniSection{}, ssoSessions: map[string]*iniSection{}, services: map[string]*iniSection{}}
	for _, s := range f.sections {
		var into map[string]*iniSection
		switch {
		case strings.HasPrefix(s.name, "profile"):
			into = m.profiles
		case strings.HasPrefix(s.name, "sso-session"):
			into = m.ssoSessions
		case strings.HasPrefix(s.name, "services"):
			into = m.services
		case s.name == "default":
			m.profiles["default"] = s
			continue
		default:
			continue
		}
		if words, ok := shellWords(s.name); ok && len(words) == 2 {
			into[words[1]] = s
		}
	}
	return m
}

// shellWords splits s into words as Python's shlex.split does: white
// space separates words, '…' quotes literally, "…" quotes with \ escaping
// \ and ", and \ outside quotes escapes any character. An unclosed quote
// or a trailing \ is an error (false).
func shellWords(s string) ([]string, bool) {
	var words []string
	var cur strings.Builder
	inWord := false
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\\':
			if i+1 >= len(rs) {
				return nil, false
			}
			i++
			cur.WriteRune(rs[i])
			inWord = true
		case c == '\'' || c == '"':
			inWord = true
			for i++; ; i++ {
				if i >= len(rs) {
					return nil, false
				}
				if rs[i] == c {
					break
				}
				if c == '"' && rs[i] == '\\' && i+1 < len(rs) && (rs[i+1] == '\\' || rs[i+1] == '"') {
					i++
				}
				cur.WriteRune(rs[i])
			}
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, true
}

// sharedConfig is what swf takes from a profile of the config file.
type sharedConfig struct {
	output   string
	endpoint string // the services section's swf endpoint_url, else the profile's
	// ignoreEndpoints is the profile's ignore_configured_endpoint_urls
	// (see ignoreConfiguredEndpoints).
	ignoreEndpoints string
	caBundle        string // the profile's ca_bundle
}

// configFilePath is the config file: AWS_CONFIG_FILE, or ~/.aws/config.
func configFilePath(getenv func(string) string) string {
	path := getenv("AWS_CONFIG_FILE")
	if path == "" {
		home := getenv("HOME")
		if home == "" {
			home, _ = os.UserHomeDir()
		}
		return filepath.Join(home, ".aws", "config")
	}
	if rest, ok := strings.CutPrefix(path, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			path = filepath.Join(home, rest)
		}
	}
	return path
}

// loadSharedConfig reads the profile (the default one when "") from
// AWS_CONFIG_FILE or ~/.aws/config. A missing file or profile gives
// nothing; the SDK reports a missing named profile. A file that does not
// parse is an error, as it is for the AWS CLI.
func loadSharedConfig(e *env, profile string) (sharedConfig, error) {
	path := configFilePath(e.getenv)
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
	pm := profilesOf(f)
	sec := pm.profiles[profile]
	if sec == nil {
		return sharedConfig{}, nil
	}
	sc := sharedConfig{output: sec.vals["output"], endpoint: sec.vals["endpoint_url"], ignoreEndpoints: sec.vals["ignore_configured_endpoint_urls"], caBundle: sec.vals["ca_bundle"]}
	if name := sec.vals["services"]; name != "" {
		if svc := pm.services[name]; svc != nil {
			if ep := nested(svc.vals["swf"])["endpoint_url"]; ep != "" {
				sc.endpoint = ep
			}
		}
	}
	return sc, nil
}

// credentialsFilePath is the shared credentials file:
// AWS_SHARED_CREDENTIALS_FILE, or ~/.aws/credentials.
func credentialsFilePath(getenv func(string) string) string {
	if path := getenv("AWS_SHARED_CREDENTIALS_FILE"); path != "" {
		if rest, ok := strings.CutPrefix(path, "~/"); ok {
			if home, err := os.UserHomeDir(); err == nil {
				path = filepath.Join(home, rest)
			}
		}
		return path
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".aws", "credentials")
}

// sdkSharedFiles writes, for the SDK, copies of the shared config and
// credentials files (as the SDK finds them) that hold the profiles
// botocore finds there, each under the name botocore gives it, and
// nothing else. The SDK's own reading trims a section's name and takes
// "[ default ]" for the default profile, or "[ profile p ]" for p, which
// the AWS CLI does not; it would also read the profile's ca_bundle, which
// swf reads itself (readCABundle). A file that is missing or does not
// parse is left for the SDK to read as it is. The returned function
// removes the copies; the SDK reads them only while it loads.
func sdkSharedFiles() (opts []func(*config.LoadOptions) error, cleanup func()) {
	var tmp []string
	cleanup = func() {
		for _, p := range tmp {
			os.Remove(p)
		}
	}
	write := func(text string) (string, bool) {
		f, err := os.CreateTemp("", "swf-shared-*")
		if err != nil {
			return "", false
		}
		tmp = append(tmp, f.Name())
		_, err = f.WriteString(text)
		if cerr := f.Close(); err != nil || cerr != nil {
			return "", false
		}
		return f.Name(), true
	}
	if data, err := os.ReadFile(configFilePath(os.Getenv)); err == nil {
		if f, ok := parseINI(string(data)); ok {
			pm := profilesOf(f)
			var b strings.Builder
			for _, name := range slices.Sorted(maps.Keys(pm.profiles)) {
				header := "profile " + name
				if name == "default" {
					header = "default"
				}
				writeSection(&b, header, pm.profiles[name], "ca_bundle")
			}
			for _, name := range slices.Sorted(maps.Keys(pm.ssoSessions)) {
				writeSection(&b, "sso-session "+name, pm.ssoSessions[name])
			}
			for _, name := range slices.Sorted(maps.Keys(pm.services)) {
				writeSection(&b, "services "+name, pm.services[name])
			}
			if path, ok := write(b.String()); ok {
				opts = append(opts, config.WithSharedConfigFiles([]string{path}))
			}
		}
	}
	if data, err := os.ReadFile(credentialsFilePath(os.Getenv)); err == nil {
		if f, ok := parseINI(string(data)); ok {
			var b strings.Builder
			for _, s := range f.sections {
				// A name the SDK would read otherwise (spaces around it)
				// names a profile that --profile hardly gives: left out.
				if s.name == strings.TrimSpace(s.name) {
					writeSection(&b, s.name, s)
				}
			}
			if path, ok := write(b.String()); ok {
				opts = append(opts, config.WithSharedCredentialsFiles([]string{path}))
			}
		}
	}
	return opts, cleanup
}

// writeSection writes a section of a config file for the SDK, without
// the keys named in skip.
func writeSection(b *strings.Builder, header string, s *iniSection, skip ...string) {
	fmt.Fprintf(b, "[%s]\n", header)
	for _, k := range s.keys {
		if slices.Contains(skip, k) {
			continue
		}
		lines := strings.Split(s.vals[k], "\n")
		fmt.Fprintf(b, "%s = %s\n", k, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(b, "  %s\n", l)
		}
	}
}
