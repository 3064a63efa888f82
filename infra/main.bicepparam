// Parameters for infra/main.bicep. Deploy with
//   az deployment group create -g <rg> -f infra/main.bicep -p infra/main.bicepparam
// and, after publishing the function code, again with
//   -p deployEventSubscription=true
// A supplemental inline value overrides a parameter only if this file sets
// it (Azure/bicep#12647), so every parameter of main.bicep is listed here;
// infra/structure_test.go fails when one is missing.
using 'main.bicep'

param location = '' // empty: the resource group's region
param baseName = 'ffbatch'
param tags = {}
param hostingPlan = 'FlexConsumption'
param poolAllocationMode = 'BatchService'
param keyVaultId = ''
param keyVaultUri = ''
param deployEventSubscription = false

param inputContainerName = 'input'
param upstreamContainerNames = []
param outputContainerName = 'output'
param statusContainerName = 'ffbatch-status'
param arrivalsQueueName = 'arrivals'
param resultsTopicName = 'results'
param resultsSubscriptionName = 'all'
param blobCreatedFunctionName = 'BlobCreated'
param taskFinishedFunctionName = 'TaskFinished'
param logsPrefix = 'logs/'

param arrivalSenderPrincipalIds = []
param resultReceiverPrincipalIds = []
param scaleByQueueLength = true
// Set by scripts/deploy.sh to the signed-in principal (Elastic Premium only).
param deployerPrincipalId = ''
param deployerPrincipalType = 'User'

param vmSize = 'Standard_D2s_v3'
param taskSlotsPerNode = 2
param dedicatedMinNodes = 0
param dedicatedMaxNodes = 0
param spotMinNodes = 0
param spotMaxNodes = 4
param scalingMode = 'autoscale'
param poolId = 'ffbatch-pool'
param jobId = 'ffbatch-job'
param poolIdleTimeout = '15m'
param sweepSchedule = '0 */5 * * * *'
param defaultPreset = 'mp3-192k-cbr'
param logLevel = 'info'
