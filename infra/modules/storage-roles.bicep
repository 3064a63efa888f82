// Role assignments on a storage account and on single containers in it, so
// each identity gets the narrowest scope that works.
// Role assignment type checked against
// https://learn.microsoft.com/azure/templates/microsoft.authorization/roleassignments (API 2022-04-01).

@description('Name of an existing storage account in this resource group.')
param storageAccountName string

@description('Account-scoped assignments: objects with principalId and roleDefinitionId (a built-in role GUID), and principalType when the principal is not a managed identity (default ServicePrincipal).')
param accountAssignments array = []

@description('Container-scoped assignments: objects with principalId, roleDefinitionId and containerName, and principalType when the principal is not a managed identity (default ServicePrincipal).')
param containerAssignments array = []

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource accountRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for a in accountAssignments: {
    name: guid(account.id, a.principalId, a.roleDefinitionId)
    scope: account
    properties: {
      principalId: a.principalId
      // Set for identities created in the same deployment, which Entra ID
      // may not have replicated yet (PrincipalNotFound otherwise).
      principalType: a.?principalType ?? 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', a.roleDefinitionId)
    }
  }
]

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = [
  for a in containerAssignments: {
    name: '${storageAccountName}/default/${a.containerName}'
  }
]

resource containerRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (a, i) in containerAssignments: {
    name: guid(containers[i].id, a.principalId, a.roleDefinitionId)
    scope: containers[i]
    properties: {
      principalId: a.principalId
      // Set for identities created in the same deployment, which Entra ID
      // may not have replicated yet (PrincipalNotFound otherwise).
      principalType: a.?principalType ?? 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', a.roleDefinitionId)
    }
  }
]
