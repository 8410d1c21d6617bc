/* A two-unit stand-in for the kernel's situation (input-formats.md §5.1): this unit and
 * vgic.c each define their own struct its_device and a static gic_data; the reader must
 * resolve types through the unit of the variable it starts from. Built by build.sh with
 * DWARF 4 and DWARF 5: the layouts must come out the same. */
struct list_head { struct list_head *next, *prev; };
struct its_collection { unsigned long long target_address; unsigned short col_id; };
struct event_lpi_map {
	unsigned long *lpi_map;
	unsigned short *col_map;
	unsigned int lpi_base;
	int nr_lpis;
};
struct its_node;
struct its_device {
	struct list_head entry;
	struct its_node *its;
	struct event_lpi_map event_map;
	void *itt;
	unsigned int nr_ites;
	unsigned int device_id;
	_Bool shared;
};
struct its_baser { void *base; unsigned long long val; unsigned int order; unsigned int psz; };
struct its_node {
	unsigned int lock;
	unsigned long flags;
	struct list_head entry;
	void *base;
	unsigned long long phys_base;
	struct its_baser tables[8];
	struct its_collection *collections;
	struct list_head its_device_list;
	union {                     /* anonymous: its members belong to its_node */
		unsigned long long cbaser_save;
		unsigned int numa_node;
	};
	unsigned int device_ids;
};
static struct list_head its_nodes;
static struct { int nr; struct its_node *its; } gic_data;
struct its_node *its_first(void) { return (struct its_node *)its_nodes.next + gic_data.nr; }
unsigned int its_device_id(struct its_device *d) { return d->device_id + d->event_map.nr_lpis; }
