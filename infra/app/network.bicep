// Virtual network with one subnet for Flex Consumption VNet integration and one for ACI container groups.
// The function reaches the groups' private IPs (health checks) through the VNet; callers of the groups must be in
// this VNet or a peered one.

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

@description('Attach a NAT gateway to both subnets for outbound internet traffic.')
param enableNatGateway bool

@description('Name of the NAT gateway.')
param natGatewayName string

@description('Name of the NAT gateway public IP address.')
param natPublicIpName string

resource natPublicIp 'Microsoft.Network/publicIPAddresses@2024-05-01' = if (enableNatGateway) {
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

resource natGateway 'Microsoft.Network/natGateways@2024-05-01' = if (enableNatGateway) {
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

var natGatewayReference = enableNatGateway ? { id: natGateway.id } : null

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
    subnets: [
      {
        name: functionSubnetName
        properties: {
          addressPrefix: functionSubnetPrefix
          defaultOutboundAccess: !enableNatGateway
          natGateway: natGatewayReference
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
          defaultOutboundAccess: !enableNatGateway
          natGateway: natGatewayReference
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
  }
}

output name string = vnet.name
output functionSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, functionSubnetName)
output aciSubnetName string = aciSubnetName
output aciSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, aciSubnetName)
