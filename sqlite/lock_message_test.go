package sqlite

import (
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// The warning a store logs when it cannot take the owner's lock names the
// lock that system's lockOwner takes: flock(2) where it is a flock, and
// LockFileEx on Windows, whose message said "no flock" though Windows has
// none. The text each system compiles is read from the files that system
// builds (this machine runs one of them, and the check of errNoOwnerLock
// below holds the reading to what it compiles).
func TestNoOwnerLockMessageNamesTheSystemsLock(t *testing.T) {
	for _, c := range []struct{ goos, names string }{
		{"linux", "flock"}, {"darwin", "flock"}, {"freebsd", "flock"},
		{"windows", "LockFileEx"},
		{"solaris", ""}, {"plan9", ""},
	} {
		msg := noOwnerLockText(t, c.goos)
		right := true
		for _, lock := range []string{"flock", "LockFileEx"} {
			right = right && strings.Contains(msg, lock) == (lock == c.names)
		}
		if !right {
			t.Errorf("on %s the store's error is %q; want it to name %q and no other lock", c.goos, msg, c.names)
		}
	}
	if got, want := errNoOwnerLock.Error(), noOwnerLockText(t, runtime.GOOS); got != want {
		t.Errorf("errNoOwnerLock is %q here; the files for %s read %q", got, runtime.GOOS, want)
	}
}

// noOwnerLockText is the text of errNoOwnerLock as the package built for
// goos declares it: errors.New of a string, a constant, or a sum of them.
func noOwnerLockText(t *testing.T, goos string) string {
	t.Helper()
	ctx := build.Default
	ctx.GOOS, ctx.GOARCH, ctx.CgoEnabled = goos, "amd64", false
	pkg, err := ctx.ImportDir(".", 0)
	if err != nil {
		t.Fatalf("the package for %s: %v", goos, err)
	}
	values := map[string]ast.Expr{}
	fset := token.NewFileSet()
	for _, name := range pkg.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(pkg.Dir, name), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); ok {
				for _, s := range g.Specs {
					if v, ok := s.(*ast.ValueSpec); ok {
						for i, n := range v.Names {
							if i < len(v.Values) {
								values[n.Name] = v.Values[i]
							}
						}
					}
				}
			}
		}
	}
	call, ok := values["errNoOwnerLock"].(*ast.CallExpr)
	if !ok || len(call.Args) != 1 {
		t.Fatalf("on %s errNoOwnerLock is not errors.New(text)", goos)
	}
	var text func(ast.Expr) string
	text = func(e ast.Expr) string {
		switch e := e.(type) {
		case *ast.BasicLit:
			if s, err := strconv.Unquote(e.Value); err == nil {
				return s
			}
		case *ast.Ident:
			if v, ok := values[e.Name]; ok {
				return text(v)
			}
		case *ast.BinaryExpr:
			if e.Op == token.ADD {
				return text(e.X) + text(e.Y)
			}
		case *ast.ParenExpr:
			return text(e.X)
		}
		t.Fatalf("on %s errNoOwnerLock's text is not a string constant (%T)", goos, e)
		return ""
	}
	return text(call.Args[0])
}
