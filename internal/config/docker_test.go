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
