// Package config holds the handler's settings: parsed once from the
// environment (Functions app settings) with envconfig, validated as a whole
// so that every problem is reported at once with the setting's name, and
// passed down as a typed struct.
//
// It is the only package that reads the environment, and it never prints
// secret values: Config.String and every error name settings, not values,
// for the connection strings and keys.
package config
