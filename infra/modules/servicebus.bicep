// Service Bus namespace with the arrivals queue and the results topic.
// Local (SAS key) authentication is disabled: senders and receivers use
// Microsoft Entra ID with Azure Service Bus data roles, assigned here at
// entity scope.
// Types checked against https://learn.microsoft.com/azure/templates/microsoft.servicebus/namespaces,
// .../namespaces/queues, .../namespaces/topics, .../namespaces/topics/subscriptions (API 2024-01-01).

@description('Globally unique namespace name (6-50 characters).')
@minLength(6)
@maxLength(50)
param name string

@description('Azure region of the namespace.')
param location string

@description('Tags applied to the namespace.')
param tags object = {}

@description('Tier. Standard is the minimum for topics and duplicate detection.')
@allowed([
  'Standard'
  'Premium'
])
param skuName string = 'Standard'

@description('Name of the arrivals queue (FFBATCH_ARRIVALS_QUEUE).')
param arrivalsQueueName string

@description('Peek-lock duration of the arrivals queue. SubmitTasks receives batches, for which the Functions host does not renew locks, so this must cover a whole batch (at most PT5M).')
param arrivalsLockDuration string = 'PT5M'

@description('Deliveries of an arrival before Service Bus dead-letters it.')
@minValue(1)
@maxValue(2000)
param arrivalsMaxDeliveryCount int = 10

@description('Duplicate detection window of the arrivals queue: a repeat of a MessageId (container + blob + ETag) inside it is dropped.')
param duplicateDetectionWindow string = 'PT1H'

@description('Time an unprocessed arrival stays on the queue before it expires into the dead-letter queue.')
param arrivalsTimeToLive string = 'P7D'

@description('Name of the results topic (FFBATCH_RESULTS_TOPIC).')
param resultsTopicName string

@description('Duplicate detection window of the results topic: a result event repeated with the same MessageId (a sweep reporting one completion twice) inside it is dropped.')
param resultsDuplicateDetectionWindow string = 'PT1H'

@description('Name of the default subscription on the results topic.')
param resultsSubscriptionName string

@description('Object id of the function app\'s managed identity, created in the same deployment. Its assignments set principalType ServicePrincipal, so they do not fail while Entra ID replicates the new identity.')
param appPrincipalId string

@description('Give the app Azure Service Bus Data Owner on the arrivals queue (send, receive, and read the queue\'s runtime properties for the SubmitTasks scaler) instead of Data Sender + Data Receiver.')
param appManagesArrivals bool = true

@description('Principal ids of upstream systems allowed to send to the arrivals queue. Users, groups or service principals, so principalType is left to Azure.')
param arrivalSenderPrincipalIds array = []

@description('Principal ids of downstream systems allowed to receive from the results topic subscriptions. Users, groups or service principals, so principalType is left to Azure.')
param resultReceiverPrincipalIds array = []

var senderRoleId = '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39' // Azure Service Bus Data Sender
var receiverRoleId = '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0' // Azure Service Bus Data Receiver
var ownerRoleId = '090c5cfd-751d-490a-894a-3ce6f1109419' // Azure Service Bus Data Owner

// The Service Bus trigger's scaler reads the queue's runtime properties
// (active message count) through the administration API, which needs
// Manage rights: Data Owner is the only built-in role with them. Scoped to
// the arrivals queue, it adds managing that one queue to the app's send and
// receive rights (docs/deploy.md, "Scaling SubmitTasks").
// Either set, at queue scope, also covers the queue's dead-letter subqueue
// (arrivals/$DeadLetterQueue), which SweepPools receives from and settles.
var appArrivalsRoleIds = appManagesArrivals ? [ownerRoleId] : [senderRoleId, receiverRoleId]

resource sbNamespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuName
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource arrivals 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: sbNamespace
  name: arrivalsQueueName
  properties: {
    lockDuration: arrivalsLockDuration
    maxDeliveryCount: arrivalsMaxDeliveryCount
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
    deadLetteringOnMessageExpiration: true
    defaultMessageTimeToLive: arrivalsTimeToLive
    requiresSession: false
    enableBatchedOperations: true
  }
}

resource results 'Microsoft.ServiceBus/namespaces/topics@2024-01-01' = {
  parent: sbNamespace
  name: resultsTopicName
  properties: {
    defaultMessageTimeToLive: 'P14D'
    enableBatchedOperations: true
    // Result events carry stable ids (one per file version and preset), so
    // a sweep that reports the same completion twice is dropped here.
    // Immutable after creation: an existing topic must be recreated.
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: resultsDuplicateDetectionWindow
  }
}

resource resultsSubscription 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2024-01-01' = {
  parent: results
  name: resultsSubscriptionName
  properties: {
    lockDuration: 'PT1M'
    maxDeliveryCount: 10
    deadLetteringOnMessageExpiration: true
    defaultMessageTimeToLive: 'P14D'
  }
}

resource appArrivals 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in appArrivalsRoleIds: {
    name: guid(arrivals.id, appPrincipalId, roleId)
    scope: arrivals
    properties: {
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    }
  }
]

resource appResults 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(results.id, appPrincipalId, senderRoleId)
  scope: results
  properties: {
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', senderRoleId)
  }
}

resource arrivalSenders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for p in arrivalSenderPrincipalIds: {
    name: guid(arrivals.id, p, senderRoleId)
    scope: arrivals
    properties: {
      principalId: p
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', senderRoleId)
    }
  }
]

resource resultReceivers 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for p in resultReceiverPrincipalIds: {
    name: guid(results.id, p, receiverRoleId)
    scope: results
    properties: {
      principalId: p
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', receiverRoleId)
    }
  }
]

@description('Resource id of the namespace.')
output id string = sbNamespace.id

@description('Name of the namespace.')
output name string = sbNamespace.name

@description('Fully qualified namespace, e.g. <name>.servicebus.windows.net (taken from the service endpoint, so it is right in every cloud).')
output fullyQualifiedNamespace string = split(split(sbNamespace.properties.serviceBusEndpoint, '//')[1], ':')[0]

@description('Name of the arrivals queue.')
output arrivalsQueueName string = arrivals.name

@description('Name of the results topic.')
output resultsTopicName string = results.name

@description('Name of the default results subscription.')
output resultsSubscriptionName string = resultsSubscription.name
