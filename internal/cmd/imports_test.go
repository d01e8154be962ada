// Package cmd holds one package per command; this test keeps them apart.
package cmd

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// cmdPath is the import path of this directory.
const cmdPath = "github.com/idpctl/idpctl/internal/cmd"

// shared are packages under internal/cmd that are no command of their own
// but output helpers of a command group: any command may import them.
// None today: the lifetime table of app expiry get and set lives in
// internal/ui/lifetimes.
var shared = map[string]bool{}

// assemblers build the command tree and so import every top-level command.
var assemblers = map[string]bool{
	cmdPath + "/root": true,
}

// commandImports maps each package under internal/cmd to the packages under
// internal/cmd its Go files (tests included) import.
func commandImports(t *testing.T) map[string][]string {
	t.Helper()
	fset := token.NewFileSet()
	imports := map[string][]string{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != "." && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg := cmdPath
		if dir := filepath.ToSlash(filepath.Dir(path)); dir != "." {
			pkg += "/" + dir
		}
		if _, ok := imports[pkg]; !ok {
			imports[pkg] = nil
		}
		for _, spec := range f.Imports {
			imp, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				return err
			}
			if strings.HasPrefix(imp, cmdPath+"/") {
				imports[pkg] = append(imports[pkg], imp)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return imports
}

// A command builds on the factory and the use cases, never on another
// command: what two commands share belongs in a use case package
// (internal/tokens, internal/admin) or in internal/ui. A command group may
// import its own subcommands to assemble them.
func TestNoCommandImportsASiblingCommand(t *testing.T) {
	imports := commandImports(t)
	for _, want := range []string{cmdPath + "/logout", cmdPath + "/token/revoke", cmdPath + "/root"} {
		if _, ok := imports[want]; !ok {
			t.Fatalf("%s was not read: the walk misses command packages", want)
		}
	}
	var bad []string
	for pkg, imps := range imports {
		if assemblers[pkg] {
			continue
		}
		for _, imp := range imps {
			if shared[imp] || strings.HasPrefix(imp, pkg+"/") {
				continue
			}
			bad = append(bad, strings.TrimPrefix(pkg, cmdPath+"/")+" imports "+strings.TrimPrefix(imp, cmdPath+"/"))
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Fatalf("a command imports another command; move what they share into a use case or internal/ui:\n%s", strings.Join(bad, "\n"))
	}
}
