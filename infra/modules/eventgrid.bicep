// Event Grid system topic on the data storage account and its two
// subscriptions: BlobCreated events for committed .mp4 blobs (any case) in
// the input container go to the BlobCreated function, and BlobCreated
// events for task logs (<logs prefix><task id>/stderr.txt in the output
// container, uploaded by Batch as a task completes) go to the TaskFinished
// function, which settles the task at once. Deploy it only after the
// function code is published: Event Grid validates the AzureFunction
// destination when the subscription is created.
// Types checked against https://learn.microsoft.com/azure/templates/microsoft.eventgrid/systemtopics
// and .../systemtopics/eventsubscriptions (API 2025-02-15).

@description('Name of the system topic.')
param systemTopicName string

@description('Azure region of the storage account (system topics live with their source).')
param location string

@description('Tags applied to the system topic.')
param tags object = {}

@description('Resource id of the storage account whose blob events are delivered.')
param storageAccountId string

@description('Container whose blobs are transcoded (FFBATCH_INPUT_CONTAINER).')
param inputContainerName string

@description('Container receiving MP3s and task logs (FFBATCH_OUTPUT_CONTAINER).')
param outputContainerName string

@description('Blob prefix of the task logs in the output container (FFBATCH_LOGS_PREFIX).')
param logsPrefix string

@description('Name of the eventGridTrigger function that settles finished tasks.')
param taskFinishedFunctionName string

@description('Resource id of the function app.')
param functionAppId string

@description('Name of the eventGridTrigger function (its folder under function-definitions/).')
param functionName string

@description('Resource id of the identity Event Grid uses to write undeliverable events.')
param deadLetterIdentityId string

@description('Container (in the same storage account) that receives undeliverable events.')
param deadLetterContainerName string

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: systemTopicName
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${deadLetterIdentityId}': {}
    }
  }
  properties: {
    source: storageAccountId
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

// Delivery settings shared by both subscriptions.
var retryPolicy = {
  maxDeliveryAttempts: 30
  eventTimeToLiveInMinutes: 1440
}

var deadLetter = {
  identity: {
    type: 'UserAssigned'
    userAssignedIdentity: deadLetterIdentityId
  }
  deadLetterDestination: {
    endpointType: 'StorageBlob'
    properties: {
      resourceId: storageAccountId
      blobContainerName: deadLetterContainerName
    }
  }
}

resource toBlobCreated 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: systemTopic
  name: 'mp4-to-${toLower(functionName)}'
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionAppId}/functions/${functionName}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      includedEventTypes: [
        'Microsoft.Storage.BlobCreated'
      ]
      // Blob event subjects look like /blobServices/default/containers/<c>/blobs/<path>.
      subjectBeginsWith: '/blobServices/default/containers/${inputContainerName}/blobs/'
      subjectEndsWith: '.mp4'
      isSubjectCaseSensitive: false // .MP4 and .Mp4 match too
      advancedFilters: [
        {
          // Only APIs that leave a committed blob (not PutBlock, not a
          // Data Lake CreateFile before its FlushWithClose).
          operatorType: 'StringIn'
          key: 'data.api'
          values: [
            'PutBlob'
            'PutBlockList'
            'CopyBlob'
            'FlushWithClose'
          ]
        }
      ]
    }
    retryPolicy: retryPolicy
    deadLetterWithResourceIdentity: deadLetter
  }
}

resource toTaskFinished 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: systemTopic
  name: 'logs-to-${toLower(taskFinishedFunctionName)}'
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionAppId}/functions/${taskFinishedFunctionName}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      includedEventTypes: [
        'Microsoft.Storage.BlobCreated'
      ]
      // Batch uploads stdout.txt and stderr.txt together; one is enough.
      subjectBeginsWith: '/blobServices/default/containers/${outputContainerName}/blobs/${logsPrefix}'
      subjectEndsWith: '/stderr.txt'
    }
    retryPolicy: retryPolicy
    deadLetterWithResourceIdentity: deadLetter
  }
}

@description('Name of the system topic.')
output systemTopicName string = systemTopic.name

@description('Name of the event subscription of BlobCreated.')
output subscriptionName string = toBlobCreated.name

@description('Name of the event subscription of TaskFinished.')
output taskFinishedSubscriptionName string = toTaskFinished.name
