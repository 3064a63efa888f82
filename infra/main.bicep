// ffbatch on Azure: blob arrivals -> Event Grid -> BlobCreated -> Service Bus
// queue -> SubmitTasks -> Azure Batch pool (ffmpeg) -> SweepPools -> results
// topic. Every component authenticates with Microsoft Entra ID through
// user-assigned managed identities; shared-key access is disabled on storage,
// Service Bus and Batch, so no key is created for use outside Azure.
//
// Deploy (see docs/deploy.md): run this template, publish the function code,
// then run it again with deployEventSubscription=true (Event Grid validates
// the function endpoint when the subscription is created).
//
// The names of the app settings below are the names internal/config reads;
// infra/settings_test.go fails when they drift apart.

targetScope = 'resourceGroup'

// ---------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------

@description('Azure region for every resource; empty means the resource group\'s region. (A .bicepparam file cannot name the resource group\'s region, and every parameter must be listed there to be overridable inline.)')
param location string = ''

@description('Short lowercase prefix used in resource names.')
@minLength(2)
@maxLength(8)
param baseName string = 'ffbatch'

@description('Tags applied to every resource.')
param tags object = {}

@description('Function app hosting: FlexConsumption (default, scales to zero) or ElasticPremium (fallback where Flex Consumption or its custom runtime is unavailable).')
@allowed([
  'FlexConsumption'
  'ElasticPremium'
])
param hostingPlan string = 'FlexConsumption'

@description('Batch pool allocation mode: BatchService (Batch-managed VMs, Batch account quotas) or UserSubscription (VMs in this subscription, subscription quotas; needs keyVaultId and keyVaultUri).')
@allowed([
  'BatchService'
  'UserSubscription'
])
param poolAllocationMode string = 'BatchService'

@description('Existing Key Vault resource id for UserSubscription pool allocation; leave empty for BatchService.')
param keyVaultId string = ''

@description('Existing Key Vault URI for UserSubscription pool allocation; leave empty for BatchService.')
param keyVaultUri string = ''

@description('Create the Event Grid subscription that feeds the BlobCreated function. Set true only after the function code is published.')
param deployEventSubscription bool = false

@description('Container watched for new .mp4 blobs (FFBATCH_INPUT_CONTAINER).')
param inputContainerName string = 'input'

@description('Containers upstream systems put blobs in and name in arrival messages (FFBATCH_UPSTREAM_CONTAINERS). Event Grid does not watch them, so a blob there is transcoded only when an arrival asks for it.')
param upstreamContainerNames array = []

@description('Container receiving MP3s and task logs (FFBATCH_OUTPUT_CONTAINER).')
param outputContainerName string = 'output'

@description('Container holding one status document per input blob (FFBATCH_STATUS_CONTAINER).')
param statusContainerName string = 'ffbatch-status'

@description('Service Bus queue of arrival messages (FFBATCH_ARRIVALS_QUEUE).')
param arrivalsQueueName string = 'arrivals'

@description('Service Bus topic of result events (FFBATCH_RESULTS_TOPIC).')
param resultsTopicName string = 'results'

@description('Subscription created on the results topic for a first downstream consumer.')
param resultsSubscriptionName string = 'all'

@description('Name of the eventGridTrigger function (a folder under function-definitions/).')
param blobCreatedFunctionName string = 'BlobCreated'

@description('Function that settles a Batch task as soon as its logs are uploaded to the output container (the folder name under function-definitions/).')
param taskFinishedFunctionName string = 'TaskFinished'

@description('Blob prefix of the task logs in the output container (FFBATCH_LOGS_PREFIX).')
param logsPrefix string = 'logs/'

@description('Principal ids of upstream systems that send arrival messages directly (granted Azure Service Bus Data Sender on the queue). Users, groups or service principals: their assignments leave principalType to Azure.')
param arrivalSenderPrincipalIds array = []

@description('Principal ids of downstream systems that read result events (granted Azure Service Bus Data Receiver on the topic). Users, groups or service principals: their assignments leave principalType to Azure.')
param resultReceiverPrincipalIds array = []

@description('Give the function identity Azure Service Bus Data Owner on the arrivals queue (queue scope only) instead of Data Sender + Data Receiver. The SubmitTasks scaler reads the queue length with a management call that needs it; without it the scaler sees at most one message (docs/deploy.md, "Scaling SubmitTasks").')
param scaleByQueueLength bool = true

@description('Object id of whoever runs scripts/deploy.sh. With hostingPlan ElasticPremium it gets Storage Blob Data Contributor on the deployment package container, so the script can upload the package the app runs from. Empty grants nothing.')
param deployerPrincipalId string = ''

@description('Kind of deployerPrincipalId: User (az login as a person) or ServicePrincipal (a pipeline).')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param deployerPrincipalType string = 'User'

@description('VM size of the Batch pool nodes (FFBATCH_VM_SIZE). Request core quota for its family.')
param vmSize string = 'Standard_D2s_v3'

@description('Tasks run at once per node (FFBATCH_TASK_SLOTS_PER_NODE); match the VM\'s cores. Batch allows at most 4 per vCPU of vmSize (8 for Standard_D2s_v3); the handler refuses to start above that for the sizes internal/plan knows, and infra/settings_test.go checks this file\'s pair.')
@minValue(1)
@maxValue(256)
param taskSlotsPerNode int = 2

@description('Fewest dedicated nodes (FFBATCH_DEDICATED_MIN_NODES). Anything above 0 costs money while idle.')
@minValue(0)
param dedicatedMinNodes int = 0

@description('Most dedicated nodes (FFBATCH_DEDICATED_MAX_NODES).')
@minValue(0)
param dedicatedMaxNodes int = 0

@description('Fewest Spot nodes (FFBATCH_SPOT_MIN_NODES).')
@minValue(0)
param spotMinNodes int = 0

@description('Most Spot nodes (FFBATCH_SPOT_MAX_NODES). Spot nodes are cheaper but can be preempted.')
@minValue(0)
param spotMaxNodes int = 4

@description('Who sizes the pool (FFBATCH_SCALING_MODE): autoscale (Batch formula, evaluated at most every 5 minutes) or managed (SubmitTasks resizes at once, SweepPools shrinks).')
@allowed([
  'autoscale'
  'managed'
])
param scalingMode string = 'autoscale'

@description('Id of the Batch pool created on demand (FFBATCH_POOL_ID).')
param poolId string = 'ffbatch-pool'

@description('Id of the Batch job holding the tasks (FFBATCH_JOB_ID).')
param jobId string = 'ffbatch-job'

@description('Idle time after which SweepPools deletes the pool (FFBATCH_POOL_IDLE_TIMEOUT, Go duration).')
param poolIdleTimeout string = '15m'

@description('Six-field NCRONTAB schedule of SweepPools (FFBATCH_SWEEP_SCHEDULE).')
param sweepSchedule string = '0 */5 * * * *'

@description('Preset used when an arrival names none (FFBATCH_DEFAULT_PRESET).')
param defaultPreset string = 'mp3-192k-cbr'

@description('Handler log level (FFBATCH_LOG_LEVEL).')
@allowed([
  'debug'
  'info'
  'warn'
  'error'
])
param logLevel string = 'info'

// ---------------------------------------------------------------------------
// Names and role ids
// ---------------------------------------------------------------------------

// The region every resource goes to. The name token is computed from it as
// it was from the former default of location, so names stay the same.
var region = empty(location) ? resourceGroup().location : location
var token = toLower(uniqueString(subscription().id, resourceGroup().id, region))
var deploymentContainerName = 'app-package'
var deadLetterContainerName = 'eventgrid-deadletter'

// Built-in role ids, checked against
// https://learn.microsoft.com/azure/role-based-access-control/built-in-roles (2026-09 revision).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  storageBlobDelegator: 'db58b8e5-c6ad-4a2a-8342-4190687cbf4a'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
}

// ---------------------------------------------------------------------------
// Identities
// ---------------------------------------------------------------------------

module funcIdentity 'modules/identity.bicep' = {
  name: 'identity-func'
  params: {
    name: 'id-${baseName}-func-${token}'
    location: region
    tags: tags
  }
}

// For Batch pool nodes. Azure attaches identities to pools only through the
// Batch management plane (ARM), not the data plane the handler uses to create
// pools, so today tasks reach blobs with user-delegation SAS URLs; see
// docs/deploy.md ("Pool identity").
module poolIdentity 'modules/identity.bicep' = {
  name: 'identity-pool'
  params: {
    name: 'id-${baseName}-pool-${token}'
    location: region
    tags: tags
  }
}

module eventGridIdentity 'modules/identity.bicep' = {
  name: 'identity-eventgrid'
  params: {
    name: 'id-${baseName}-evgt-${token}'
    location: region
    tags: tags
  }
}

// ---------------------------------------------------------------------------
// Storage: host storage (Functions runtime, deployment packages) and data
// storage (input, output, status), so data roles stay narrow.
// ---------------------------------------------------------------------------

module hostStorage 'modules/storage.bicep' = {
  name: 'storage-host'
  params: {
    name: 'st${token}h'
    location: region
    tags: tags
    containerNames: [
      deploymentContainerName
    ]
  }
}

module dataStorage 'modules/storage.bicep' = {
  name: 'storage-data'
  params: {
    name: 'st${token}d'
    location: region
    tags: tags
    containerNames: [
      inputContainerName
      outputContainerName
      statusContainerName
      deadLetterContainerName
    ]
    extraContainerNames: upstreamContainerNames
    // Staged MP3s (internal/plan StagingPrefix) that no settle promoted:
    // a task lost after its upload. Settling deletes the others.
    expirePrefixes: [
      '${outputContainerName}/.staging/'
    ]
  }
}

// On Elastic Premium the app runs from a package blob in the deployment
// container (modules/functionapp.bicep); the deployer uploads it there.
var deployerAssignments = hostingPlan == 'ElasticPremium' && !empty(deployerPrincipalId) ? [
  {
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
    roleDefinitionId: roles.storageBlobDataContributor
    containerName: deploymentContainerName
  }
] : []

module hostStorageRoles 'modules/storage-roles.bicep' = {
  name: 'storage-host-roles'
  params: {
    storageAccountName: hostStorage.outputs.name
    containerAssignments: deployerAssignments
    accountAssignments: [
      {
        principalId: funcIdentity.outputs.principalId
        roleDefinitionId: roles.storageBlobDataOwner
      }
      {
        principalId: funcIdentity.outputs.principalId
        roleDefinitionId: roles.storageQueueDataContributor
      }
      {
        principalId: funcIdentity.outputs.principalId
        roleDefinitionId: roles.storageTableDataContributor
      }
    ]
  }
}

module dataStorageRoles 'modules/storage-roles.bicep' = {
  name: 'storage-data-roles'
  params: {
    storageAccountName: dataStorage.outputs.name
    // User-delegation keys for the SAS URLs handed to tasks. The key is
    // requested from the account (Get User Delegation Key), so this needs
    // account scope; the container-scoped data roles below do not grant it.
    accountAssignments: [
      {
        principalId: funcIdentity.outputs.principalId
        roleDefinitionId: roles.storageBlobDelegator
      }
    ]
    // Upstream containers are read like the input container: by the
    // function (blob properties) and by the pool (the task's input).
    containerAssignments: concat(flatten(map(upstreamContainerNames, c => [
      {
        principalId: funcIdentity.outputs.principalId
        roleDefinitionId: roles.storageBlobDataReader
        containerName: c
      }
      {
        principalId: poolIdentity.outputs.principalId
        roleDefinitionId: roles.storageBlobDataReader
        containerName: c
      }
    ])), [
      {
        principalId: funcIdentity.outputs.principalId
        roleDefinitionId: roles.storageBlobDataReader
        containerName: inputContainerName
      }
      {
        principalId: funcIdentity.outputs.principalId
        roleDefinitionId: roles.storageBlobDataContributor
        containerName: outputContainerName
      }
      {
        principalId: funcIdentity.outputs.principalId
        roleDefinitionId: roles.storageBlobDataContributor
        containerName: statusContainerName
      }
      {
        principalId: poolIdentity.outputs.principalId
        roleDefinitionId: roles.storageBlobDataReader
        containerName: inputContainerName
      }
      {
        principalId: poolIdentity.outputs.principalId
        roleDefinitionId: roles.storageBlobDataContributor
        containerName: outputContainerName
      }
      {
        principalId: eventGridIdentity.outputs.principalId
        roleDefinitionId: roles.storageBlobDataContributor
        containerName: deadLetterContainerName
      }
    ])
  }
}

// ---------------------------------------------------------------------------
// Messaging, compute, monitoring
// ---------------------------------------------------------------------------

module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  params: {
    name: 'sb-${baseName}-${token}'
    location: region
    tags: tags
    arrivalsQueueName: arrivalsQueueName
    resultsTopicName: resultsTopicName
    resultsSubscriptionName: resultsSubscriptionName
    appPrincipalId: funcIdentity.outputs.principalId
    appManagesArrivals: scaleByQueueLength
    arrivalSenderPrincipalIds: arrivalSenderPrincipalIds
    resultReceiverPrincipalIds: resultReceiverPrincipalIds
  }
}

module batch 'modules/batch.bicep' = {
  name: 'batch'
  params: {
    name: 'ba${token}'
    location: region
    tags: tags
    poolAllocationMode: poolAllocationMode
    keyVaultId: keyVaultId
    keyVaultUri: keyVaultUri
    dataContributorPrincipalIds: [
      funcIdentity.outputs.principalId
    ]
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    workspaceName: 'log-${baseName}-${token}'
    appInsightsName: 'appi-${baseName}-${token}'
    location: region
    tags: tags
    publisherPrincipalIds: [
      funcIdentity.outputs.principalId
    ]
  }
}

// ---------------------------------------------------------------------------
// Function app
// ---------------------------------------------------------------------------

// Every setting internal/config reads, except the local-stack secrets
// (connection strings and the Batch account key), which have no place in
// Azure. Values equal to the internal/config default are spelled out so the
// app's configuration is visible here.
var appSettings = {
  // Host-owned trigger connection for SubmitTasks (function.json
  // "connection": "ServiceBusConnection"), identity-based.
  ServiceBusConnection__fullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
  ServiceBusConnection__credential: 'managedidentity'
  ServiceBusConnection__clientId: funcIdentity.outputs.clientId

  FFBATCH_INPUT_CONTAINER: inputContainerName
  // Containers upstream systems may name in arrival messages (created above,
  // readable by the function and pool identities).
  FFBATCH_UPSTREAM_CONTAINERS: join(upstreamContainerNames, ',')
  FFBATCH_OUTPUT_CONTAINER: outputContainerName
  FFBATCH_STATUS_CONTAINER: statusContainerName
  FFBATCH_LOGS_PREFIX: logsPrefix
  FFBATCH_STORAGE_ACCOUNT_URL: dataStorage.outputs.blobEndpoint
  // Waiting time the task SAS URLs allow for on top of every attempt at its
  // wall-clock limit (internal/plan URLLifetime).
  FFBATCH_SAS_QUEUEING: '2h'

  FFBATCH_SERVICEBUS_NAMESPACE: serviceBus.outputs.fullyQualifiedNamespace
  FFBATCH_ARRIVALS_QUEUE: arrivalsQueueName
  FFBATCH_RESULTS_TOPIC: resultsTopicName

  FFBATCH_MANAGED_IDENTITY_CLIENT_ID: funcIdentity.outputs.clientId

  FFBATCH_BATCH_ENDPOINT: batch.outputs.endpoint
  FFBATCH_BATCH_AUTH: 'entra'
  FFBATCH_BATCH_ACCOUNT_NAME: batch.outputs.name

  FFBATCH_POOL_ID: poolId
  FFBATCH_JOB_ID: jobId
  FFBATCH_VM_SIZE: vmSize
  FFBATCH_TASK_SLOTS_PER_NODE: string(taskSlotsPerNode)
  FFBATCH_DEDICATED_MIN_NODES: string(dedicatedMinNodes)
  FFBATCH_DEDICATED_MAX_NODES: string(dedicatedMaxNodes)
  FFBATCH_SPOT_MIN_NODES: string(spotMinNodes)
  FFBATCH_SPOT_MAX_NODES: string(spotMaxNodes)
  FFBATCH_SCALING_MODE: scalingMode
  FFBATCH_AUTOSCALE_INTERVAL: '5m'
  FFBATCH_IMAGE_PUBLISHER: 'Canonical'
  FFBATCH_IMAGE_OFFER: 'ubuntu-24_04-lts'
  FFBATCH_IMAGE_SKU: 'server'
  FFBATCH_IMAGE_VERSION: 'latest'
  FFBATCH_NODE_AGENT_SKU: 'batch.node.ubuntu 24.04'
  FFBATCH_CONTAINER_IMAGE: ''
  FFBATCH_START_TASK_COMMAND: ''
  FFBATCH_POOL_IDLE_TIMEOUT: poolIdleTimeout

  FFBATCH_DEFAULT_PRESET: defaultPreset
  FFBATCH_MAX_TASK_RETRIES: '2'
  FFBATCH_MAX_RESUBMITS: '3'
  FFBATCH_RESUBMIT_BACKOFF: '1m'
  FFBATCH_ORPHAN_GRACE: '15m'
  FFBATCH_TASK_MIN_WALL_CLOCK: '10m'
  FFBATCH_TASK_WALL_CLOCK_PER_GIB: '20m'

  FFBATCH_SWEEP_SCHEDULE: sweepSchedule
  FFBATCH_LOG_LEVEL: logLevel
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    name: 'func-${baseName}-${token}'
    planName: 'plan-${baseName}-${token}'
    location: region
    tags: tags
    hostingPlan: hostingPlan
    identityId: funcIdentity.outputs.id
    identityClientId: funcIdentity.outputs.clientId
    hostStorageAccountName: hostStorage.outputs.name
    hostStorageBlobEndpoint: hostStorage.outputs.blobEndpoint
    deploymentContainerName: deploymentContainerName
    appInsightsConnectionString: monitoring.outputs.connectionString
    appSettings: appSettings
  }
  dependsOn: [
    hostStorageRoles
    dataStorageRoles
  ]
}

// ---------------------------------------------------------------------------
// Event Grid (second pass, after the code is published)
// ---------------------------------------------------------------------------

module eventGrid 'modules/eventgrid.bicep' = if (deployEventSubscription) {
  name: 'eventgrid'
  params: {
    systemTopicName: 'evgt-${baseName}-${token}'
    location: region
    tags: tags
    storageAccountId: dataStorage.outputs.id
    inputContainerName: inputContainerName
    functionAppId: functionApp.outputs.id
    functionName: blobCreatedFunctionName
    taskFinishedFunctionName: taskFinishedFunctionName
    outputContainerName: outputContainerName
    logsPrefix: logsPrefix
    deadLetterIdentityId: eventGridIdentity.outputs.id
    deadLetterContainerName: deadLetterContainerName
  }
  dependsOn: [
    dataStorageRoles
  ]
}

// ---------------------------------------------------------------------------
// Outputs: every value the app settings and the deploy steps need
// ---------------------------------------------------------------------------

@description('Function app name, for func azure functionapp publish.')
output functionAppName string = functionApp.outputs.name

@description('Function app host name; the Status function is https://<host>/api/status.')
output functionAppHostName string = functionApp.outputs.defaultHostName

@description('FFBATCH_STORAGE_ACCOUNT_URL: blob endpoint of the data storage account.')
output storageAccountUrl string = dataStorage.outputs.blobEndpoint

@description('Name of the data storage account (input, output, status containers).')
output dataStorageAccountName string = dataStorage.outputs.name

@description('Name of the host storage account (AzureWebJobsStorage, deployment packages).')
output hostStorageAccountName string = hostStorage.outputs.name

@description('FFBATCH_INPUT_CONTAINER.')
output inputContainerName string = inputContainerName

@description('FFBATCH_OUTPUT_CONTAINER.')
output outputContainerName string = outputContainerName

@description('FFBATCH_STATUS_CONTAINER.')
output statusContainerName string = statusContainerName

@description('FFBATCH_SERVICEBUS_NAMESPACE and ServiceBusConnection__fullyQualifiedNamespace.')
output serviceBusNamespace string = serviceBus.outputs.fullyQualifiedNamespace

@description('FFBATCH_ARRIVALS_QUEUE.')
output arrivalsQueueName string = serviceBus.outputs.arrivalsQueueName

@description('FFBATCH_RESULTS_TOPIC.')
output resultsTopicName string = serviceBus.outputs.resultsTopicName

@description('Subscription on the results topic.')
output resultsSubscriptionName string = serviceBus.outputs.resultsSubscriptionName

@description('FFBATCH_MANAGED_IDENTITY_CLIENT_ID: client id of the function app identity.')
output managedIdentityClientId string = funcIdentity.outputs.clientId

@description('FFBATCH_BATCH_ENDPOINT.')
output batchEndpoint string = batch.outputs.endpoint

@description('FFBATCH_BATCH_ACCOUNT_NAME.')
output batchAccountName string = batch.outputs.name

@description('Resource id of the pool identity (roles on the input and output containers), for a pool created through the Batch management plane.')
output poolIdentityResourceId string = poolIdentity.outputs.id

@description('Client id of the pool identity.')
output poolIdentityClientId string = poolIdentity.outputs.clientId

@description('FlexConsumption or ElasticPremium, so scripts/publish.sh knows how to publish.')
output hostingPlan string = hostingPlan

@description('Elastic Premium: URL of the package blob the app runs from (WEBSITE_RUN_FROM_PACKAGE), where scripts/publish.sh uploads the code; empty on Flex Consumption.')
output packageUrl string = functionApp.outputs.packageUrl

@description('Application Insights component name, for log queries.')
output appInsightsName string = monitoring.outputs.appInsightsName

@description('Whether the Event Grid subscription to BlobCreated was deployed in this run.')
output eventSubscriptionDeployed bool = deployEventSubscription
