// Log Analytics workspace and workspace-based Application Insights. Local
// (instrumentation-key) authentication is disabled, so telemetry is accepted
// only with a Microsoft Entra token: the function app identity gets
// Monitoring Metrics Publisher.
// Types checked against https://learn.microsoft.com/azure/templates/microsoft.operationalinsights/workspaces (API 2023-09-01)
// and https://learn.microsoft.com/azure/templates/microsoft.insights/components (API 2020-02-02).

@description('Name of the Log Analytics workspace.')
param workspaceName string

@description('Name of the Application Insights component.')
param appInsightsName string

@description('Azure region of both resources.')
param location string

@description('Tags applied to both resources.')
param tags object = {}

@description('Days logs are kept.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

@description('Principal ids allowed to publish telemetry (Monitoring Metrics Publisher).')
param publisherPrincipalIds array

var metricsPublisherRoleId = '3913510d-42f4-4e42-8a64-420c390055eb' // Monitoring Metrics Publisher

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    retentionInDays: retentionInDays
    sku: {
      name: 'PerGB2018'
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
  }
}

resource publishers 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for p in publisherPrincipalIds: {
    name: guid(appInsights.id, p, metricsPublisherRoleId)
    scope: appInsights
    properties: {
      principalId: p
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', metricsPublisherRoleId)
    }
  }
]

@description('Application Insights connection string (contains the instrumentation key, which is an identifier, not a credential, once local auth is disabled).')
output connectionString string = appInsights.properties.ConnectionString

@description('Name of the Application Insights component.')
output appInsightsName string = appInsights.name

@description('Resource id of the Log Analytics workspace.')
output workspaceId string = workspace.id
