package config

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestDockerRegistriesTakeAProfileNameOrAMapping(t *testing.T) {
	c, err := Parse([]byte(`profiles: {corp: {}, gcp: {}}
docker_registries:
  registry.example.com: corp
  "https://gar.example.com:443/v1/": {profile: gcp, username: robot}
`), "config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ serverURL, key, profile, user string }{
		{"registry.example.com", "registry.example.com", "corp", DefaultDockerUsername},
		{"https://Registry.example.com/", "registry.example.com", "corp", DefaultDockerUsername},
		{"gar.example.com:443", "https://gar.example.com:443/v1/", "gcp", "robot"},
	}
	for _, tc := range cases {
		key, r, ok := c.DockerRegistryFor(tc.serverURL)
		if !ok || key != tc.key || r.Profile != tc.profile || r.User() != tc.user {
			t.Errorf("%s: %q %+v %v", tc.serverURL, key, r, ok)
		}
	}
	if _, _, ok := c.DockerRegistryFor("registry.example.com:5000"); ok {
		t.Error("another port of a registry matched")
	}
	out, err := yaml.Marshal(c)
	if err != nil || !strings.Contains(string(out), "registry.example.com: corp\n") || !strings.Contains(string(out), "username: robot") {
		t.Errorf("saved as %s (%v)", out, err)
	}
}

func TestDockerRegistryRefusesUnknownFields(t *testing.T) {
	_, err := Parse([]byte("docker_registries:\n  r.example.com: {profil: corp}\n"), "config.yaml")
	if err == nil || !strings.Contains(err.Error(), "profil") {
		t.Fatalf("err = %v", err)
	}
}

// The scheme's default port is the same registry as no port.
func TestTheDefaultPortNamesTheSameRegistry(t *testing.T) {
	c, err := Parse([]byte("profiles: {corp: {}}\ndocker_registries:\n  registry.example.com: corp\n"), "config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, serverURL := range []string{"registry.example.com:443", "https://registry.example.com:443/v2/", "https://registry.example.com/v2/"} {
		if _, r, ok := c.DockerRegistryFor(serverURL); !ok || r.Profile != "corp" {
			t.Errorf("%s: not found", serverURL)
		}
	}
}

// Two entries for one registry would make the answer depend on map order.
func TestTwoEntriesForOneRegistryAreRefused(t *testing.T) {
	_, err := Parse([]byte(`profiles: {a: {}, b: {}}
docker_registries:
  "https://registry.example.com/": a
  registry.example.com:443: b
`), "config.yaml")
	if err == nil || !strings.Contains(err.Error(), "both name the registry registry.example.com") {
		t.Fatalf("err = %v", err)
	}
}
