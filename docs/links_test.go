package docs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// codeLinkRE matches a link to a Go file whose text names a declaration
// in it: [`gbdt.Model.PredictRow`](../model/gbdt/predict.go).
var codeLinkRE = regexp.MustCompile("\\[`([A-Za-z_][A-Za-z0-9_.]*)`\\]\\(([^)#]+\\.go)\\)")

// TestCodeLinks checks that every function, method or type a document
// links by name is declared in the file it links to, so that the
// walkthrough (docs/walkthrough.md) cannot point at code that moved.
func TestCodeLinks(t *testing.T) {
	checked := 0
	for _, doc := range documents(t) {
		raw, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(raw), "\n") {
			for _, m := range codeLinkRE.FindAllStringSubmatch(line, -1) {
				name, file := m[1], filepath.Join(filepath.Dir(doc), m[2])
				decls, pkg, err := declarations(file)
				if err != nil {
					t.Errorf("%s:%d: link to %s: %v", doc, i+1, m[2], err)
					continue
				}
				parts := strings.Split(name, ".")
				if len(parts) > 1 && parts[0] == pkg {
					parts = parts[1:] // gbdt.Model.PredictRow -> Model.PredictRow
				}
				if !decls[strings.Join(parts, ".")] {
					t.Errorf("%s:%d: %s declares no %s (linked as `%s`)", doc, i+1, m[2], strings.Join(parts, "."), name)
				}
				checked++
			}
		}
	}
	if checked < 30 { // docs/walkthrough.md alone links about 40
		t.Errorf("only %d code links found: is the link pattern still the one the documents use?", checked)
	}
}

// declarations returns the top-level names a Go file declares (functions,
// types, variables, constants, and methods as Type.Method) and its
// package name.
func declarations(file string) (map[string]bool, string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, "", err
	}
	out := map[string]bool{}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				out[d.Name.Name] = true
				continue
			}
			typ := d.Recv.List[0].Type
			if s, ok := typ.(*ast.StarExpr); ok {
				typ = s.X
			}
			if g, ok := typ.(*ast.IndexExpr); ok {
				typ = g.X
			}
			if id, ok := typ.(*ast.Ident); ok {
				out[id.Name+"."+d.Name.Name] = true
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					out[s.Name.Name] = true
				case *ast.ValueSpec:
					for _, n := range s.Names {
						out[n.Name] = true
					}
				}
			}
		}
	}
	return out, f.Name.Name, nil
}
