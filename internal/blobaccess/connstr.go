package blobaccess

import (
	"errors"
	"fmt"
	"strings"
)

// Account is what a storage connection string says about the blob
// endpoint. Key is a secret.
type Account struct {
	Name    string
	Key     string
	BlobURL string // e.g. http://127.0.0.1:10000/devstoreaccount1
}

// ParseConnectionString reads AccountName, AccountKey and the blob
// endpoint (BlobEndpoint, or DefaultEndpointsProtocol + EndpointSuffix)
// from a storage connection string. Errors never echo the string.
func ParseConnectionString(s string) (Account, error) {
	kv := map[string]string{}
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return Account{}, errors.New("storage connection string: a part has no '='")
		}
		kv[strings.ToLower(k)] = v
	}
	a := Account{Name: kv["accountname"], Key: kv["accountkey"], BlobURL: strings.TrimRight(kv["blobendpoint"], "/")}
	if a.Name == "" || a.Key == "" {
		return Account{}, errors.New("storage connection string: AccountName and AccountKey are required")
	}
	if a.BlobURL == "" {
		proto, suffix := kv["defaultendpointsprotocol"], kv["endpointsuffix"]
		if proto == "" {
			proto = "https"
		}
		if suffix == "" {
			suffix = "core.windows.net"
		}
		a.BlobURL = fmt.Sprintf("%s://%s.blob.%s", proto, a.Name, suffix)
	}
	return a, nil
}
