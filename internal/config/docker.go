package config

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// DefaultDockerUsername is the user name docker-credential-idpctl answers
// with when a registry names none: registries that take an OAuth access
// token as the password commonly expect it (Google Artifact Registry).
const DefaultDockerUsername = "oauth2accesstoken"

// DockerRegistry maps a container registry to the profile whose access
// token is its password. In YAML it is the profile name, or a mapping with
// profile and username:
//
//	docker_registries:
//	  registry.example.com: corp
//	  acr.example.com: {profile: azure, username: 00000000-0000-0000-0000-000000000000}
type DockerRegistry struct {
	Profile  string `yaml:"profile" json:"profile"`
	Username string `yaml:"username,omitempty" json:"username,omitempty"`
}

// UnmarshalYAML accepts the short form (a profile name) and the mapping,
// refusing unknown keys in the latter like the rest of the file.
func (d *DockerRegistry) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		d.Profile = n.Value
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a docker registry maps to a profile name or to {profile, username}", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: %s must be a string", v.Line, k.Value)
		}
		switch k.Value {
		case "profile":
			d.Profile = v.Value
		case "username":
			d.Username = v.Value
		default:
			return fmt.Errorf("line %d: field %s not found in a docker registry (profile, username)", k.Line, k.Value)
		}
	}
	return nil
}

// MarshalYAML writes the short form when there is no user name.
func (d DockerRegistry) MarshalYAML() (any, error) {
	if d.Username == "" {
		return d.Profile, nil
	}
	type plain DockerRegistry
	return plain(d), nil
}

// User is the configured user name or the default.
func (d DockerRegistry) User() string {
	if d.Username != "" {
		return d.Username
	}
	return DefaultDockerUsername
}

// RegistryHost reduces what docker sends as a server URL
// ("registry.example.com", "https://registry.example.com:5000/",
// "https://index.docker.io/v1/") to host[:port], lower-cased.
func RegistryHost(serverURL string) string {
	s := strings.TrimSpace(serverURL)
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return strings.ToLower(strings.TrimSpace(serverURL))
	}
	host := strings.ToLower(u.Host)
	// The scheme's default port names the same registry as no port.
	if port := u.Port(); (port == "443" && u.Scheme == "https") || (port == "80" && u.Scheme == "http") {
		host = strings.TrimSuffix(host, ":"+port)
	}
	return host
}

// checkDockerRegistries refuses two entries for the same registry: which
// one answered would depend on map order.
func (c *Config) checkDockerRegistries() error {
	byHost := map[string]string{}
	keys := make([]string, 0, len(c.DockerRegistries))
	for key := range c.DockerRegistries {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		host := RegistryHost(key)
		if other, dup := byHost[host]; dup {
			return fmt.Errorf("docker_registries: %q and %q both name the registry %s; keep one", other, key, host)
		}
		byHost[host] = key
	}
	return nil
}

// DockerRegistryFor finds the registry entry for a server URL: an entry
// written exactly as docker sends it, else the one for its host[:port].
// It returns the entry's key too.
func (c *Config) DockerRegistryFor(serverURL string) (string, DockerRegistry, bool) {
	if r, ok := c.DockerRegistries[strings.TrimSpace(serverURL)]; ok {
		return strings.TrimSpace(serverURL), r, true
	}
	host := RegistryHost(serverURL)
	for key, r := range c.DockerRegistries {
		if RegistryHost(key) == host {
			return key, r, true
		}
	}
	return "", DockerRegistry{}, false
}
