/* OVF descriptor text (ovf.h). Element order and names follow VirtualBox's OVF 1.0 export
 * (what nixpkgs' virtualbox-image produces today), with two changes so that VMware imports it
 * as well: vssd:VirtualSystemType is "vmx-13" (VMware refuses "virtualbox-2.2", VirtualBox
 * ticket #7982; VirtualBox does not look at the type), and the OS section carries
 * vmw:osType. Hardware: CPUs, memory, one SATA AHCI controller ("AHCI", the subtype
 * VirtualBox requires) holding the disk, one E1000 NIC on NAT (the one adapter model both
 * VirtualBox and VMware emulate), and for UEFI-only layouts vmw:Config firmware=efi (VMware;
 * VirtualBox has no OVF element for the firmware outside its own vbox:Machine). */
#include "format/ovf.h"

#include <stdio.h>
#include <string.h>

#include "util/strbuf.h"
#include "util/xalloc.h"

#define OVF_DEFAULT_CPUS 2u
#define OVF_DEFAULT_MEMORY_MIB 2048u

char *ovf_safe_name(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	char *s;

	if (n == 0)
		return xstrdup("nixos");
	if (n > 64)
		n = 64;
	s = xstrdup(name);
	s[n] = '\0';
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			s[i] = '_';
	}
	if (s[0] == '.' || s[0] == '-')
		s[0] = '_';
	return s;
}

static void ovf_item(struct strbuf *b, const char *body)
{
	strbuf_appendf(b, "      <Item>\n%s      </Item>\n", body);
}

static void ovf_hardware(struct strbuf *b, const struct ovf_params *p)
{
	unsigned cpus = p->cpus ? p->cpus : OVF_DEFAULT_CPUS;
	unsigned long long mem = p->memory_mib ? p->memory_mib : OVF_DEFAULT_MEMORY_MIB;
	char item[1024];

	strbuf_appendf(b,
		       "    <VirtualHardwareSection>\n"
		       "      <Info>Virtual hardware requirements for a virtual machine</Info>\n"
		       "      <System>\n"
		       "        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>\n"
		       "        <vssd:InstanceID>0</vssd:InstanceID>\n"
		       "        <vssd:VirtualSystemIdentifier>%s</vssd:VirtualSystemIdentifier>\n"
		       "        <vssd:VirtualSystemType>vmx-13</vssd:VirtualSystemType>\n"
		       "      </System>\n",
		       p->name);
	snprintf(item, sizeof(item),
		 "        <rasd:Caption>%u virtual CPU</rasd:Caption>\n"
		 "        <rasd:Description>Number of virtual CPUs</rasd:Description>\n"
		 "        <rasd:ElementName>%u virtual CPU</rasd:ElementName>\n"
		 "        <rasd:InstanceID>1</rasd:InstanceID>\n"
		 "        <rasd:ResourceType>3</rasd:ResourceType>\n"
		 "        <rasd:VirtualQuantity>%u</rasd:VirtualQuantity>\n",
		 cpus, cpus, cpus);
	ovf_item(b, item);
	snprintf(item, sizeof(item),
		 "        <rasd:AllocationUnits>MegaBytes</rasd:AllocationUnits>\n"
		 "        <rasd:Caption>%llu MB of memory</rasd:Caption>\n"
		 "        <rasd:Description>Memory Size</rasd:Description>\n"
		 "        <rasd:ElementName>%llu MB of memory</rasd:ElementName>\n"
		 "        <rasd:InstanceID>2</rasd:InstanceID>\n"
		 "        <rasd:ResourceType>4</rasd:ResourceType>\n"
		 "        <rasd:VirtualQuantity>%llu</rasd:VirtualQuantity>\n",
		 mem, mem, mem);
	ovf_item(b, item);
	ovf_item(b, "        <rasd:Address>0</rasd:Address>\n"
		    "        <rasd:Caption>sataController0</rasd:Caption>\n"
		    "        <rasd:Description>SATA Controller</rasd:Description>\n"
		    "        <rasd:ElementName>sataController0</rasd:ElementName>\n"
		    "        <rasd:InstanceID>3</rasd:InstanceID>\n"
		    "        <rasd:ResourceSubType>AHCI</rasd:ResourceSubType>\n"
		    "        <rasd:ResourceType>20</rasd:ResourceType>\n");
	ovf_item(b, "        <rasd:AddressOnParent>0</rasd:AddressOnParent>\n"
		    "        <rasd:Caption>disk1</rasd:Caption>\n"
		    "        <rasd:Description>Disk Image</rasd:Description>\n"
		    "        <rasd:ElementName>disk1</rasd:ElementName>\n"
		    "        <rasd:HostResource>/disk/vmdisk1</rasd:HostResource>\n"
		    "        <rasd:InstanceID>4</rasd:InstanceID>\n"
		    "        <rasd:Parent>3</rasd:Parent>\n"
		    "        <rasd:ResourceType>17</rasd:ResourceType>\n");
	ovf_item(b, "        <rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>\n"
		    "        <rasd:Caption>Ethernet adapter on 'NAT'</rasd:Caption>\n"
		    "        <rasd:Connection>NAT</rasd:Connection>\n"
		    "        <rasd:ElementName>Ethernet adapter on 'NAT'</rasd:ElementName>\n"
		    "        <rasd:InstanceID>5</rasd:InstanceID>\n"
		    "        <rasd:ResourceSubType>E1000</rasd:ResourceSubType>\n"
		    "        <rasd:ResourceType>10</rasd:ResourceType>\n");
	if (p->efi)
		strbuf_append(b, "      <vmw:Config ovf:required=\"false\" vmw:key=\"firmware\" "
				 "vmw:value=\"efi\"/>\n");
	strbuf_append(b, "    </VirtualHardwareSection>\n");
}

char *ovf_descriptor(const struct ovf_params *p)
{
	struct strbuf b = { 0 };

	strbuf_appendf(
		&b,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<Envelope ovf:version=\"1.0\" xml:lang=\"en-US\" "
		"xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\" "
		"xmlns:ovf=\"http://schemas.dmtf.org/ovf/envelope/1\" "
		"xmlns:rasd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
		"CIM_ResourceAllocationSettingData\" "
		"xmlns:vssd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
		"CIM_VirtualSystemSettingData\" "
		"xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
		"xmlns:vbox=\"http://www.virtualbox.org/ovf/machine\" "
		"xmlns:vmw=\"http://www.vmware.com/schema/ovf\">\n"
		"  <References>\n"
		"    <File ovf:href=\"%s\" ovf:id=\"file1\" ovf:size=\"%llu\"/>\n"
		"  </References>\n"
		"  <DiskSection>\n"
		"    <Info>List of the virtual disks used in the package</Info>\n"
		"    <Disk ovf:capacity=\"%llu\" ovf:capacityAllocationUnits=\"byte\" "
		"ovf:diskId=\"vmdisk1\" ovf:fileRef=\"file1\" "
		"ovf:format=\"http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized\" "
		"ovf:populatedSize=\"%llu\"/>\n"
		"  </DiskSection>\n"
		"  <NetworkSection>\n"
		"    <Info>Logical networks used in the package</Info>\n"
		"    <Network ovf:name=\"NAT\">\n"
		"      <Description>Logical network used by this appliance.</Description>\n"
		"    </Network>\n"
		"  </NetworkSection>\n"
		"  <VirtualSystem ovf:id=\"%s\">\n"
		"    <Info>A virtual machine</Info>\n"
		"    <OperatingSystemSection ovf:id=\"101\" vmw:osType=\"other3xLinux64Guest\">\n"
		"      <Info>The kind of installed guest operating system</Info>\n"
		"      <Description>Linux26_64</Description>\n"
		"      <vbox:OSType ovf:required=\"false\">Linux26_64</vbox:OSType>\n"
		"    </OperatingSystemSection>\n",
		p->disk_file, (unsigned long long)p->disk_file_size,
		(unsigned long long)p->capacity, (unsigned long long)p->populated, p->name);
	ovf_hardware(&b, p);
	strbuf_append(&b, "  </VirtualSystem>\n</Envelope>\n");
	return strbuf_steal(&b);
}
