/* KVM's own struct its_device (vgic-its.c), unlike the driver's. See its.c. */
struct list_head { struct list_head *next, *prev; };
struct its_device {
	struct list_head dev_list;
	struct list_head itt_head;
	unsigned int num_eventid_bits;
	unsigned long long itt_addr;
	unsigned int device_id;
};
static struct { long dist; struct its_device *dev; } gic_data;
static struct its_device *vgic_its_dev;
long vgic_first(void) { return gic_data.dist + vgic_its_dev->device_id; }
void _start(void) {}
