// The function app (custom handler, Linux) and its hosting plan: Flex
// Consumption by default, Elastic Premium as a fallback for regions or
// subscriptions where Flex Consumption is not available. It runs as a
// user-assigned managed identity and reaches its host storage, Service Bus,
// Batch and Application Insights without keys.
// Types checked against https://learn.microsoft.com/azure/templates/microsoft.web/serverfarms,
// .../microsoft.web/sites and .../microsoft.web/sites/config-appsettings (API 2024-04-01);
// functionAppConfig (Flex Consumption) exists from API 2023-12-01 and its runtime.name
// accepts dotnet-isolated, node, java, powershell, python and custom
// (FunctionAppConfig.RuntimeName in the Az.Functions and azure-mgmt-web references).

@description('Globally unique name of the function app.')
param name string

@description('Name of the hosting plan.')
param planName string

@description('Azure region of the plan and the app.')
param location string

@description('Tags applied to the plan and the app.')
param tags object = {}

@description('FlexConsumption (default: scale to zero, per-execution billing) or ElasticPremium (fallback: always at least one warm instance, billed per hour).')
@allowed([
  'FlexConsumption'
  'ElasticPremium'
])
param hostingPlan string = 'FlexConsumption'

@description('Elastic Premium SKU, used only when hostingPlan is ElasticPremium.')
@allowed([
  'EP1'
  'EP2'
  'EP3'
])
param premiumSku string = 'EP1'

@description('Flex Consumption: most instances the app may scale out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Flex Consumption: memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Flex Consumption runtime version for the custom handler. \'1.0\' is assumed, not confirmed in a reference; check `az functionapp list-flexconsumption-runtimes --location <region>`.')
param customRuntimeVersion string = '1.0'

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Client id of that identity (identity-based connections and azidentity).')
param identityClientId string

@description('Name of the storage account used as AzureWebJobsStorage (host storage).')
param hostStorageAccountName string

@description('Blob endpoint of the host storage account, with a trailing slash.')
param hostStorageBlobEndpoint string

@description('Container in the host storage account that holds the deployment package: written by Flex Consumption\'s deployment, or uploaded by scripts/publish.sh for Elastic Premium.')
param deploymentContainerName string

@description('Elastic Premium: name of the package blob in the deployment container that the app runs from (must end in .zip).')
param packageBlobName string = 'ffbatch.zip'

@description('Application Insights connection string.')
param appInsightsConnectionString string

@description('The application\'s own settings (the FFBATCH_* names read by internal/config and the trigger connections).')
param appSettings object

var isFlex = hostingPlan == 'FlexConsumption'

var flexSku = {
  name: 'FC1'
  tier: 'FlexConsumption'
}

var premiumPlanSku = {
  name: premiumSku
  tier: 'ElasticPremium'
}

// Flex Consumption: code comes from a blob container (read with the app's
// identity), the runtime is declared here instead of FUNCTIONS_WORKER_RUNTIME.
var flexConfig = {
  deployment: {
    storage: {
      type: 'blobContainer'
      value: '${hostStorageBlobEndpoint}${deploymentContainerName}'
      authentication: {
        type: 'UserAssignedIdentity'
        userAssignedIdentityResourceId: identityId
      }
    }
  }
  scaleAndConcurrency: {
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
  }
  runtime: {
    name: 'custom'
    version: customRuntimeVersion
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: isFlex ? 'functionapp' : 'elastic'
  sku: isFlex ? flexSku : premiumPlanSku
  properties: {
    reserved: true // Linux
    maximumElasticWorkerCount: isFlex ? null : 20
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
    functionAppConfig: isFlex ? flexConfig : null
  }
}

// Settings the Functions host itself reads: host storage and Application
// Insights through the managed identity.
var hostSettings = {
  AzureWebJobsStorage__accountName: hostStorageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

// Elastic Premium runs the code from a package blob read with the app's
// identity (it has Storage Blob Data Owner on the host account), without
// an Azure Files content share: that share needs a storage key
// (WEBSITE_CONTENTAZUREFILECONNECTIONSTRING), and the host account refuses
// keys. Core Tools cannot publish such an app (it uploads with the
// AzureWebJobsStorage connection string), so scripts/publish.sh uploads
// the package and restarts the app. The settings are part of this
// template because the appsettings resource below replaces every setting:
// set by hand, the next deployment would remove them and unload the code.
// learn.microsoft.com/azure/azure-functions/storage-considerations#create-an-app-without-azure-files
var packageUrl = '${hostStorageBlobEndpoint}${deploymentContainerName}/${packageBlobName}'

// Flex Consumption takes the runtime from functionAppConfig and rejects
// FUNCTIONS_WORKER_RUNTIME; Elastic Premium needs it as a setting.
var premiumSettings = {
  FUNCTIONS_EXTENSION_VERSION: '~4'
  FUNCTIONS_WORKER_RUNTIME: 'custom'
  WEBSITE_RUN_FROM_PACKAGE: packageUrl
  WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID: identityId
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: union(hostSettings, isFlex ? {} : premiumSettings, appSettings)
}

@description('Resource id of the function app.')
output id string = site.id

@description('Name of the function app.')
output name string = site.name

@description('Elastic Premium: URL of the package blob the app runs from; empty on Flex Consumption.')
output packageUrl string = isFlex ? '' : packageUrl

@description('Default host name, e.g. <app>.azurewebsites.net.')
output defaultHostName string = site.properties.defaultHostName
