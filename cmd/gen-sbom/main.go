// Command gen-sbom writes a CycloneDX SBOM (JSON) for a built Go binary from
// the module information the Go toolchain embeds in it: the main module,
// every dependency with its version and checksum, and the Go version. The
// release build runs it for each binary.
//
//	gen-sbom -o idpctl.cdx.json dist/idpctl_linux_amd64_v1/idpctl
package main

import (
	"debug/buildinfo"
	"flag"
	"fmt"
	"os"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

func main() {
	out := flag.String("o", "", "output file (default stdout)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: gen-sbom [-o FILE] BINARY")
		os.Exit(2)
	}
	bom, err := build(flag.Arg(0))
	if err != nil {
		fmt.Fprintf(os.Stderr, "gen-sbom: %v\n", err)
		os.Exit(1)
	}
	w := os.Stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintf(os.Stderr, "gen-sbom: %v\n", err)
			os.Exit(1)
		}
		defer f.Close()
		w = f
	}
	if err := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON).SetPretty(true).Encode(bom); err != nil {
		fmt.Fprintf(os.Stderr, "gen-sbom: %v\n", err)
		os.Exit(1)
	}
}

func build(path string) (*cdx.BOM, error) {
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading build information: %w", err)
	}
	purl := func(mod, version string) string { return "pkg:golang/" + mod + "@" + version }
	version := info.Main.Version
	if version == "" || version == "(devel)" {
		version = "devel"
	}
	bom := cdx.NewBOM()
	mainRef := purl(info.Main.Path, version)
	props := []cdx.Property{{Name: "go.version", Value: info.GoVersion}}
	for _, s := range info.Settings {
		if strings.HasPrefix(s.Key, "GO") || s.Key == "-trimpath" || s.Key == "CGO_ENABLED" || s.Key == "vcs.revision" {
			props = append(props, cdx.Property{Name: "go.build." + s.Key, Value: s.Value})
		}
	}
	bom.Metadata = &cdx.Metadata{Component: &cdx.Component{
		BOMRef: mainRef, Type: cdx.ComponentTypeApplication, Name: info.Main.Path, Version: version, PackageURL: mainRef, Properties: &props,
	}}
	var comps []cdx.Component
	var deps []string
	for _, d := range info.Deps {
		m := d
		if d.Replace != nil {
			m = d.Replace
		}
		ref := purl(m.Path, m.Version)
		c := cdx.Component{BOMRef: ref, Type: cdx.ComponentTypeLibrary, Name: m.Path, Version: m.Version, PackageURL: ref}
		if m.Sum != "" {
			// Go's h1: sum hashes the module's file tree (go.sum); it is no
			// plain SHA-256 of an artefact, so it goes in a property.
			c.Properties = &[]cdx.Property{{Name: "go.module.sum", Value: m.Sum}}
		}
		comps = append(comps, c)
		deps = append(deps, ref)
	}
	bom.Components = &comps
	bom.Dependencies = &[]cdx.Dependency{{Ref: mainRef, Dependencies: &deps}}
	return bom, nil
}
