package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/swfd/swfd/api"
)

// extraCommands are the swf commands that aws swf does not have.
var extraCommands = []struct{ name, summary string }{
	{"history", "an execution's events as a readable table (--follow to watch it)"},
	{"executions", "open (or --closed) executions of a domain as a table"},
	{"describe", "an execution at a glance: status, open counts, pending work"},
	{"bench", "load-test an endpoint: N workflows, their throughput and latencies"},
	{"clock", "swfd's time; advance or set a --clock manual or skip clock"},
	{"dev", "reset: drop everything a swfd --dev holds, between tests"},
	{"completion", "print a bash or zsh completion script"},
}

func printTopHelp(w io.Writer) {
	fmt.Fprint(w, `swf - command line for swfd and Amazon SWF

usage: swf [options] <command> [parameters]

Every "aws swf" command works the same way with "swf": same names, same
flags, same output. Run "swf <command> help" for a command's flags.

Commands for daily work:
`)
	for _, c := range extraCommands {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nSWF API commands:\n")
	for _, n := range commandNames {
		fmt.Fprintf(w, "  %s\n", n)
	}
	fmt.Fprint(w, `
Global options:
  --endpoint-url URL        server (default http://127.0.0.1:7733, or
                            $AWS_ENDPOINT_URL_SWF, $AWS_ENDPOINT_URL, the
                            profile's services section or endpoint_url,
                            unless $AWS_IGNORE_CONFIGURED_ENDPOINT_URLS or
                            the profile's ignore_configured_endpoint_urls
                            is true)
  --region R                region (AWS_REGION, AWS_DEFAULT_REGION, profile; default us-east-1)
  --profile P               profile of ~/.aws/config and ~/.aws/credentials
  --output json|text|table  output format (default json, or
                            $AWS_DEFAULT_OUTPUT, the profile's output)
  --query EXPR              JMESPath expression applied to the output
  --color on|off|auto       colour tables (default auto: when stdout is a terminal)
  --no-paginate             one page only for paginated commands
  --debug                   log each request and response to stderr
  --cli-read-timeout S      seconds to wait for a response (default 70; 0 = forever)
  --cli-connect-timeout S   seconds to wait for a connection (default 60)
  --no-sign-request         send requests unsigned
  --no-verify-ssl           do not verify TLS certificates
  --ca-bundle FILE          CA certificates for TLS (or $AWS_CA_BUNDLE)
  --version                 print the version
`)
}

// typeName is how help names a shape's type.
func typeName(sh *api.Shape) string {
	switch sh.Type {
	case "list":
		return "list"
	case "structure":
		return "structure"
	}
	return sh.Type
}

func printCommandHelp(w io.Writer, c *command) {
	fmt.Fprintf(w, "swf %s\n\n", c.name)
	fmt.Fprintf(w, "Calls the SWF operation %s.", c.op.Name)
	if c.op.Output == "" {
		fmt.Fprint(w, " Prints nothing on success.")
	} else {
		fmt.Fprintf(w, " Prints a %s.", c.op.Output)
	}
	if c.pager != nil {
		fmt.Fprintf(w, "\nPaginated: all pages are fetched and their %q merged unless --no-paginate.", c.pager.resultKey)
	}
	fmt.Fprint(w, "\n\nSynopsis:\n  swf "+c.name+"\n")
	for _, p := range c.params {
		if p.hidden {
			continue
		}
		f := "--" + p.flag + " <value>"
		if p.shape.Type == "boolean" {
			f = "--" + p.flag + " | --no-" + p.flag
		}
		if !p.required {
			f = "[" + f + "]"
		}
		fmt.Fprintf(w, "    %s\n", f)
	}
	fmt.Fprint(w, "    [--cli-input-json <value>]\n")
	if c.pager != nil {
		fmt.Fprint(w, "    [--starting-token <value>]\n    [--page-size <value>]\n    [--max-items <value>]\n")
	}
	fmt.Fprint(w, "    [--generate-cli-skeleton [input|output]]\n\nParameters:\n")
	for _, p := range c.params {
		if p.hidden {
			continue
		}
		req := ""
		if p.required {
			req = ", required"
		}
		name := "--" + p.flag
		if p.shape.Type == "boolean" {
			name += " | --no-" + p.flag
		}
		fmt.Fprintf(w, "\n  %s (%s%s) -> %s\n", name, typeName(p.shape), req, p.member)
		describeShape(w, p.shape, "      ", 0)
		if !isScalar(p.shape) {
			if sh := shorthandExample(p.shape); sh != "" {
				fmt.Fprintf(w, "    Shorthand: %s\n", sh)
			}
			fmt.Fprintf(w, "    JSON: %s\n", strings.ReplaceAll(pyJSONCompact(jsonExample(p.shape, 0)), "\n", "\n          "))
		}
	}
	fmt.Fprint(w, "\nValues may be given as file://PATH (read from a file). Global options: swf help.\n")
}

// describeShape lists enum values and nested members.
func describeShape(w io.Writer, sh *api.Shape, indent string, depth int) {
	if len(sh.Enum) > 0 {
		fmt.Fprintf(w, "%sone of: %s\n", indent, strings.Join(sh.Enum, ", "))
	}
	if depth > 3 {
		return
	}
	switch sh.Type {
	case "structure":
		for _, m := range members(sh) {
			ms := shape(m.Shape)
			req := ""
			if m.Required {
				req = ", required"
			}
			fmt.Fprintf(w, "%s%s (%s%s)\n", indent, m.Name, typeName(ms), req)
			describeShape(w, ms, indent+"  ", depth+1)
		}
	case "list":
		el := shape(sh.Member)
		if el.Type == "structure" {
			fmt.Fprintf(w, "%seach element (structure):\n", indent)
			describeShape(w, el, indent+"  ", depth+1)
		} else {
			fmt.Fprintf(w, "%seach element (%s)\n", indent, el.Type)
		}
	}
}

// shorthandExample shows a flag's shorthand form; "" when a shape is too
// deep for it to be useful.
func shorthandExample(sh *api.Shape) string {
	switch sh.Type {
	case "list":
		el := shape(sh.Member)
		if el.Type != "structure" {
			return el.Type + " " + el.Type + " ..."
		}
		s := shorthandStruct(el, 0)
		if s == "" {
			return ""
		}
		return s + " " + s + " ..."
	case "structure":
		return shorthandStruct(sh, 0)
	}
	return ""
}

func shorthandStruct(sh *api.Shape, depth int) string {
	if depth > 1 {
		return ""
	}
	var parts []string
	for _, m := range members(sh) {
		ms := shape(m.Shape)
		switch ms.Type {
		case "structure":
			inner := shorthandStruct(ms, depth+1)
			if inner == "" {
				return ""
			}
			parts = append(parts, m.Name+"={"+inner+"}")
		case "list":
			el := shape(ms.Member)
			if el.Type == "structure" {
				return ""
			}
			parts = append(parts, m.Name+"="+el.Type+","+el.Type)
		default:
			parts = append(parts, m.Name+"="+ms.Type)
		}
	}
	return strings.Join(parts, ",")
}

func jsonExample(sh *api.Shape, depth int) any {
	switch sh.Type {
	case "structure":
		o := newOmap()
		if depth > 4 {
			return o
		}
		for _, m := range members(sh) {
			o.set(m.Name, jsonExample(shape(m.Shape), depth+1))
		}
		return o
	case "list":
		return []any{jsonExample(shape(sh.Member), depth+1)}
	case "string":
		if len(sh.Enum) > 0 {
			return strings.Join(sh.Enum, "|")
		}
		return "string"
	}
	return sh.Type
}

// pyJSONCompact renders an example on few lines: nested structures indented
// by two spaces.
func pyJSONCompact(v any) string {
	return strings.ReplaceAll(pyJSON(v), "    ", "  ")
}

// ---- completion ----------------------------------------------------------

const completionHelp = `swf completion bash             print a bash completion script
swf completion zsh              print the same for zsh

The script completes swf's commands, each command's options, and the values
of a few options that take one of a set (--output, --registration-status,
--child-policy). Load it in the running shell with
  source <(swf completion bash)
or write it where the shell reads completion scripts at start.
`

// runCompletion prints a completion script. The global options are taken
// wherever they stand (swf --endpoint-url URL completion bash), as by
// every other command, and change nothing: the script makes no call.
// --version prints the version, as it does anywhere on a line.
func runCompletion(e *env, args []string) error {
	p, err := parseArgs(args, globalSpecs)
	if err != nil {
		return err
	}
	if p.has("version") {
		fmt.Fprintln(e.stdout, versionString())
		return nil
	}
	if ownHelp(p) {
		io.WriteString(e.stdout, completionHelp)
		return nil
	}
	if len(p.unknown) > 0 {
		return &unknownOptionsError{p.unknown}
	}
	if len(p.positionals) != 1 {
		return &usageError{"usage: swf completion bash|zsh"}
	}
	switch p.positionals[0] {
	case "bash":
		io.WriteString(e.stdout, bashCompletion())
	case "zsh":
		io.WriteString(e.stdout, "#compdef swf\nautoload -U +X bashcompinit && bashcompinit\n"+bashCompletion())
	default:
		return &usageError{fmt.Sprintf("argument shell: Invalid choice: '%s' (choose from 'bash', 'zsh')", p.positionals[0])}
	}
	return nil
}

func bashCompletion() string {
	var b strings.Builder
	b.WriteString("# swf completion for bash (source it, or: eval \"$(swf completion bash)\")\n")
	b.WriteString("_swf() {\n  local cur cmd i\n  cur=\"${COMP_WORDS[COMP_CWORD]}\"\n  cmd=\"\"\n")
	b.WriteString("  for ((i=1; i<COMP_CWORD; i++)); do\n    case \"${COMP_WORDS[i]}\" in\n      --*) ;;\n      *) cmd=\"${COMP_WORDS[i]}\"; break ;;\n    esac\n  done\n")
	names := append([]string{}, commandNames...)
	for _, c := range extraCommands {
		names = append(names, c.name)
	}
	names = append(names, "help")
	globals := strings.Join(globalFlagNames(), " ")
	b.WriteString("  local globals=\"" + globals + "\"\n")
	b.WriteString("  if [[ -z \"$cmd\" ]]; then\n    COMPREPLY=($(compgen -W \"" + strings.Join(names, " ") + " $globals\" -- \"$cur\"))\n    return\n  fi\n")
	b.WriteString("  local prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n")
	b.WriteString("  case \"$prev\" in\n    --output) COMPREPLY=($(compgen -W \"json text table\" -- \"$cur\")); return ;;\n")
	b.WriteString("    --registration-status) COMPREPLY=($(compgen -W \"REGISTERED DEPRECATED\" -- \"$cur\")); return ;;\n")
	b.WriteString("    --generate-cli-skeleton) COMPREPLY=($(compgen -W \"input output\" -- \"$cur\")); return ;;\n")
	b.WriteString("    --child-policy) COMPREPLY=($(compgen -W \"TERMINATE REQUEST_CANCEL ABANDON\" -- \"$cur\")); return ;;\n")
	b.WriteString("  esac\n  local flags=\"\"\n  case \"$cmd\" in\n")
	for _, n := range commandNames {
		b.WriteString("    " + n + ") flags=\"" + strings.Join(sortedFlags(commands[n]), " ") + "\" ;;\n")
	}
	// The flags of history, executions, describe and bench come from the
	// specs they are parsed with, so that none is left out.
	extra := make([]string, 0, len(extraSpecs))
	for n := range extraSpecs {
		extra = append(extra, n)
	}
	sort.Strings(extra)
	for _, n := range extra {
		flags := make([]string, 0, len(extraSpecs[n]))
		for f := range extraSpecs[n] {
			flags = append(flags, "--"+f)
		}
		sort.Strings(flags)
		b.WriteString("    " + n + ") flags=\"" + strings.Join(flags, " ") + "\" ;;\n")
	}
	b.WriteString("    clock) flags=\"advance set\" ;;\n")
	b.WriteString("    dev) flags=\"reset\" ;;\n")
	b.WriteString("    completion) flags=\"bash zsh\" ;;\n")
	b.WriteString("  esac\n  COMPREPLY=($(compgen -W \"$flags $globals\" -- \"$cur\"))\n}\ncomplete -o default -F _swf swf\n")
	return b.String()
}
