// A user-assigned managed identity. ffbatch uses three: one for the function
// app, one for Batch pool nodes and one for Event Grid dead-lettering, so each
// gets only the roles it needs.
// Type checked against https://learn.microsoft.com/azure/templates/microsoft.managedidentity/userassignedidentities

@description('Name of the user-assigned managed identity.')
param name string

@description('Azure region of the identity.')
param location string

@description('Tags applied to the identity.')
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

@description('Resource id of the identity.')
output id string = identity.id

@description('Client (application) id of the identity, for azidentity and identity-based connections.')
output clientId string = identity.properties.clientId

@description('Object (principal) id of the identity, for role assignments.')
output principalId string = identity.properties.principalId
