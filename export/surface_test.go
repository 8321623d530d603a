package export

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"sort"
	"strings"
	"testing"
)

// maxExported bounds the package's exported surface: what a user needs to
// run, plan, inspect and schedule exports, write their outcome back to
// NetBox and report drift, and nothing of the engine.
const maxExported = 60

// TestExportedSurface counts the exported top-level identifiers of the
// package's non-test files, as go doc lists them: every type, every
// function (not methods), and every constant and variable (each name of a
// group counts). It fails above maxExported, naming them all.
func TestExportedSurface(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi os.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	pkg, ok := pkgs["export"]
	if !ok {
		t.Fatalf("no package export among %d parsed", len(pkgs))
	}
	var names []string
	for _, f := range pkg.Files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.IsExported() {
					names = append(names, d.Name.Name)
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						if s.Name.IsExported() {
							names = append(names, s.Name.Name)
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() {
								names = append(names, n.Name)
							}
						}
					}
				}
			}
		}
	}
	sort.Strings(names)
	t.Logf("%d exported identifiers: %s", len(names), strings.Join(names, " "))
	if len(names) > maxExported {
		t.Errorf("package export has %d exported identifiers, want at most %d: %s",
			len(names), maxExported, strings.Join(names, " "))
	}
}
