// A StorageV2 account with private blob containers and shared-key access
// disabled, so every caller must use Microsoft Entra ID (managed identity or
// user-delegation SAS).
// Types checked against https://learn.microsoft.com/azure/templates/microsoft.storage/storageaccounts
// and .../storageaccounts/blobservices/containers (API 2023-05-01).

@description('Globally unique storage account name (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region of the account.')
param location string

@description('Tags applied to the account.')
param tags object = {}

@description('Blob containers to create (all private).')
param containerNames array

@description('More containers to create, given by the caller as a parameter (the upstream containers).')
param extraContainerNames array = []

@description('Allow shared-key (account key and account SAS) access. Keep false: ffbatch uses Entra ID everywhere in Azure.')
param allowSharedKeyAccess bool = false

@description('Storage redundancy SKU.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
])
param skuName string = 'Standard_LRS'

@description('Days a deleted blob stays recoverable (0 disables soft delete).')
@minValue(0)
@maxValue(365)
param blobSoftDeleteDays int = 7

@description('Blob name prefixes, each "<container>/<prefix>", whose blobs are deleted a number of days after their last change (expireAfterDays). ffbatch uses it for the output container\'s staged MP3s that no settle will ever promote (a task lost after its upload).')
param expirePrefixes array = []

@description('Days after its last modification that a blob under expirePrefixes is deleted.')
@minValue(1)
param expireAfterDays int = 7

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: allowSharedKeyAccess
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: blobSoftDeleteDays > 0
      days: blobSoftDeleteDays > 0 ? blobSoftDeleteDays : null
    }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for containerName in concat(containerNames, extraContainerNames): {
    parent: blobService
    name: containerName
    properties: {
      publicAccess: 'None'
    }
  }
]

// Lifecycle management deletes what is left under expirePrefixes. Schema:
// https://learn.microsoft.com/azure/templates/microsoft.storage/storageaccounts/managementpolicies
resource expiry 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = if (!empty(expirePrefixes)) {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          enabled: true
          name: 'expire-leftovers'
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: expirePrefixes
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: expireAfterDays
                }
              }
            }
          }
        }
      ]
    }
  }
}

@description('Resource id of the account.')
output id string = account.id

@description('Name of the account.')
output name string = account.name

@description('Blob endpoint, e.g. https://<account>.blob.core.windows.net/ (with a trailing slash).')
output blobEndpoint string = account.properties.primaryEndpoints.blob
