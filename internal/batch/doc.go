// Package batch is a typed client for the Azure Batch data plane (pools,
// nodes, jobs and tasks) built on the azcore HTTP pipeline, so it inherits
// azcore's retries, logging and telemetry.
//
// It authenticates with Microsoft Entra ID ([NewClient]) or with the Batch
// flavour of Shared Key ([NewSharedKeyClient]), which differs from Storage
// Shared Key: canonical headers are ocp-*, Content-Length is signed as sent
// and Content-Type is signed whenever present.
//
// Service failures are returned as *azcore.ResponseError whose ErrorCode is
// the Batch error code; use [HasCode] with the Code* constants to branch on
// them and [AsError] to read the message and detail values.
//
// The package models only the fields the ffbatch pipeline uses; it is not a
// complete Batch SDK. It deliberately does not cover certificates, job
// schedules, node users, node files, application packages or the management
// (ARM) plane, and it never imports the local emulators.
package batch
