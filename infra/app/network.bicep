// Virtual network with one subnet for Flex Consumption VNet integration, one for ACI container groups and, when the
// registry is private, one for the registry's private endpoint. The function reaches the groups' private IPs (health
// checks) through the VNet; callers of the groups must be in this VNet or a peered one.
//
// The NAT gateway is not optional: "If you deploy your container group into a virtual network, you must use a NAT
// gateway for outbound connectivity. This is the only supported configuration." (Microsoft Learn,
// container-instances/container-instances-virtual-network-concepts). New subnets get no default outbound access
// either, so the function subnet uses the same gateway.

@description('Name of the virtual network.')
param name string

@description('Location of the network resources.')
param location string = resourceGroup().location

@description('Tags applied to the network resources.')
param tags object = {}

@description('Address space of the virtual network.')
param addressPrefix string

@description('Name of the function integration subnet.')
param functionSubnetName string

@description('Prefix of the function integration subnet.')
param functionSubnetPrefix string

@description('Name of the ACI subnet.')
param aciSubnetName string

@description('Prefix of the ACI subnet.')
param aciSubnetPrefix string

@description('Name of the subnet that holds the registry\'s private endpoint. Empty: no such subnet (the registry is not private).')
param registryEndpointSubnetName string = ''

@description('Prefix of the registry private endpoint subnet (used only when registryEndpointSubnetName is set).')
param registryEndpointSubnetPrefix string = ''

@description('Name of the NAT gateway.')
param natGatewayName string

@description('Name of the NAT gateway public IP address.')
param natPublicIpName string

resource natPublicIp 'Microsoft.Network/publicIPAddresses@2024-05-01' = {
  name: natPublicIpName
  location: location
  tags: tags
  sku: {
    name: 'Standard'
  }
  properties: {
    publicIPAllocationMethod: 'Static'
    publicIPAddressVersion: 'IPv4'
  }
}

resource natGateway 'Microsoft.Network/natGateways@2024-05-01' = {
  name: natGatewayName
  location: location
  tags: tags
  sku: {
    name: 'Standard'
  }
  properties: {
    idleTimeoutInMinutes: 4
    publicIpAddresses: [
      {
        id: natPublicIp.id
      }
    ]
  }
}

var appSubnets = [
  {
    name: functionSubnetName
    properties: {
      addressPrefix: functionSubnetPrefix
      defaultOutboundAccess: false
      natGateway: {
        id: natGateway.id
      }
      delegations: [
        {
          // Flex Consumption VNet integration requires this delegation (and the Microsoft.App provider).
          name: 'flex-consumption'
          properties: {
            serviceName: 'Microsoft.App/environments'
          }
        }
      ]
    }
  }
  {
    name: aciSubnetName
    properties: {
      addressPrefix: aciSubnetPrefix
      defaultOutboundAccess: false
      natGateway: {
        id: natGateway.id
      }
      delegations: [
        {
          name: 'container-instances'
          properties: {
            serviceName: 'Microsoft.ContainerInstance/containerGroups'
          }
        }
      ]
    }
  }
]

// Its own subnet, never the ACI one: ACI cannot pull through a registry private endpoint that sits in the
// ACI-delegated subnet (Microsoft Learn, container-registry/allow-access-trusted-services and
// container-instances/using-azure-container-registry-mi). A private endpoint needs no outbound access.
var registryEndpointSubnets = empty(registryEndpointSubnetName)
  ? []
  : [
      {
        name: registryEndpointSubnetName
        properties: {
          addressPrefix: registryEndpointSubnetPrefix
          defaultOutboundAccess: false
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: concat(appSubnets, registryEndpointSubnets)
  }
}

output name string = vnet.name
output id string = vnet.id
output functionSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, functionSubnetName)
output natPublicIpAddress string = natPublicIp.properties.ipAddress
output aciSubnetName string = aciSubnetName
output aciSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, aciSubnetName)
output registryEndpointSubnetId string = empty(registryEndpointSubnetName)
  ? ''
  : resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, registryEndpointSubnetName)
