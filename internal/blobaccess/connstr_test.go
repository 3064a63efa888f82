package blobaccess

import (
	"strings"
	"testing"
)

func TestParseConnectionString(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Account
		wantErr bool
	}{
		{"azurite", "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;",
			Account{Name: "devstoreaccount1", Key: "a2V5", BlobURL: "http://127.0.0.1:10000/devstoreaccount1"}, false},
		{"azure", "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5==;EndpointSuffix=core.windows.net",
			Account{Name: "acct", Key: "a2V5==", BlobURL: "https://acct.blob.core.windows.net"}, false},
		{"no key", "AccountName=acct;BlobEndpoint=http://x", Account{}, true},
		{"development shortcut", "UseDevelopmentStorage=true", Account{}, true},
		{"garbage", "secretvalue", Account{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseConnectionString(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "secretvalue") {
				t.Errorf("error echoes the input")
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
