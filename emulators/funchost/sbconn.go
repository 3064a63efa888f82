package funchost

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

// serviceBusClient resolves a binding's "connection" the way the Service
// Bus extension does: a connection string in <conn> (or
// AzureWebJobs<conn>), else an identity connection
// <conn>__fullyQualifiedNamespace with optional __credential and __clientId.
// It returns the client and the fully qualified namespace.
func serviceBusClient(s appSettings, conn string, opts *azservicebus.ClientOptions) (*azservicebus.Client, string, error) {
	cs, ok := s.lookup(conn)
	if !ok || cs == "" {
		cs, ok = s.lookup("AzureWebJobs" + conn)
	}
	if ok && cs != "" {
		client, err := azservicebus.NewClientFromConnectionString(cs, opts)
		if err != nil {
			return nil, "", fmt.Errorf("service bus connection %s: invalid connection string: %w", conn, err)
		}
		return client, endpointHost(cs), nil
	}
	ns, _ := s.lookup(conn + "__fullyQualifiedNamespace")
	if ns == "" {
		return nil, "", fmt.Errorf("service bus connection %s: no app setting %s (connection string) nor %s__fullyQualifiedNamespace", conn, conn, conn)
	}
	var cred azcore.TokenCredential
	var err error
	kind, _ := s.lookup(conn + "__credential")
	if strings.EqualFold(kind, "managedidentity") {
		opts := &azidentity.ManagedIdentityCredentialOptions{}
		if id, ok := s.lookup(conn + "__clientId"); ok && id != "" {
			opts.ID = azidentity.ClientID(id)
		}
		cred, err = azidentity.NewManagedIdentityCredential(opts)
	} else {
		cred, err = azidentity.NewDefaultAzureCredential(nil)
	}
	if err != nil {
		return nil, "", fmt.Errorf("service bus connection %s: credential: %w", conn, err)
	}
	client, err := azservicebus.NewClient(ns, cred, opts)
	if err != nil {
		return nil, "", fmt.Errorf("service bus connection %s: %w", conn, err)
	}
	return client, ns, nil
}

// endpointHost reads the namespace host from Endpoint=sb://host/ (never the key).
func endpointHost(cs string) string {
	for _, part := range strings.Split(cs, ";") {
		k, v, ok := strings.Cut(part, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "Endpoint") {
			if u, err := url.Parse(strings.TrimSpace(v)); err == nil && u.Host != "" {
				return u.Host
			}
		}
	}
	return ""
}
