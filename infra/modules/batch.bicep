// Azure Batch account. Pools and jobs are created at run time by the
// SubmitTasks function over the Batch data plane and deleted by SweepPools, so
// no pool is declared here. Shared-key authentication is off: the function
// app calls Batch with a Microsoft Entra token (role Azure Batch Data
// Contributor, assigned below).
// Types checked against https://learn.microsoft.com/azure/templates/microsoft.batch/batchaccounts (API 2024-07-01).

@description('Globally unique Batch account name (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region of the account.')
param location string

@description('Tags applied to the account.')
param tags object = {}

@description('BatchService: Batch owns the VMs and account quotas apply (the simple default). UserSubscription: VMs are created in your subscription and use its vCPU quotas and reservations; needs an existing Key Vault and the Batch service granted access to the subscription (see docs/deploy.md).')
@allowed([
  'BatchService'
  'UserSubscription'
])
param poolAllocationMode string = 'BatchService'

@description('Resource id of an existing Key Vault, required when poolAllocationMode is UserSubscription; ignored otherwise.')
param keyVaultId string = ''

@description('URI of that Key Vault (https://<name>.vault.azure.net/), required when poolAllocationMode is UserSubscription.')
param keyVaultUri string = ''

@description('Principal ids that may create, resize and delete pools, jobs and tasks (Azure Batch Data Contributor).')
param dataContributorPrincipalIds array

var batchDataContributorRoleId = '6aaa78f1-f7de-44ca-8722-c64a23943cae' // Azure Batch Data Contributor

var userSubscriptionKeyVault = {
  id: keyVaultId
  url: keyVaultUri
}

resource account 'Microsoft.Batch/batchAccounts@2024-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    poolAllocationMode: poolAllocationMode
    // AAD for the function app; TaskAuthenticationToken lets tasks call Batch
    // with their own token if ever needed. SharedKey is left out on purpose.
    allowedAuthenticationModes: [
      'AAD'
      'TaskAuthenticationToken'
    ]
    publicNetworkAccess: 'Enabled'
    keyVaultReference: poolAllocationMode == 'UserSubscription' ? userSubscriptionKeyVault : null
  }
}

resource dataContributors 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for p in dataContributorPrincipalIds: {
    name: guid(account.id, p, batchDataContributorRoleId)
    scope: account
    properties: {
      principalId: p
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', batchDataContributorRoleId)
    }
  }
]

@description('Resource id of the account.')
output id string = account.id

@description('Name of the account.')
output name string = account.name

@description('Data-plane endpoint with scheme, e.g. https://<account>.<region>.batch.azure.com.')
output endpoint string = 'https://${account.properties.accountEndpoint}'
