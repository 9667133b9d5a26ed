#include "nix/nix.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tree/tree.h"
#include "util/diag.h"
#include "util/test.h"

#define SYS "/nix/store/9fax5gxslkj4pxzj884cwxcdapw2bifl-nixos-system-x"
#define CHAN "/nix/store/67bbzkv6wgvdlffpv86mc2f85r7y5acj-nixos-channel"

static const char *link_of(const struct tree *t, const char *path)
{
	const struct tree_node *n = tree_lookup(t, path);

	return n && n->type == TREE_SYMLINK ? n->link_target : "(none)";
}

static uint32_t mode_of(const struct tree *t, const char *path)
{
	const struct tree_node *n = tree_lookup(t, path);

	return n ? n->mode : 0xffffffff;
}

TEST(nix_layout_is_nixos_installs)
{
	char cfg[] = "/tmp/nix-layout-test-XXXXXX";
	int fd = mkstemp(cfg);
	struct tree *t = tree_new();
	struct diag d = { 0 };
	struct nix_layout_opts o = { .system = SYS, .channel = CHAN, .config_file = cfg };
	const struct tree_node *n;

	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(write(fd, "{ }\n", 4), 4);
	close(fd);
	ASSERT_OK(nix_layout_apply(t, &o, &d));
	(void)unlink(cfg);

	ASSERT_STR_EQ(link_of(t, "/nix/var/nix/profiles/system"), "system-1-link");
	ASSERT_STR_EQ(link_of(t, "/nix/var/nix/profiles/system-1-link"), SYS);
	ASSERT_STR_EQ(link_of(t, "/nix/var/nix/gcroots/profiles"), "/nix/var/nix/profiles");
	ASSERT_STR_EQ(link_of(t, "/nix/var/nix/profiles/per-user/root/channels"),
		      "channels-1-link");
	ASSERT_STR_EQ(link_of(t, "/nix/var/nix/profiles/per-user/root/channels-1-link"), CHAN);
	ASSERT_STR_EQ(link_of(t, "/root/.nix-defexpr/channels"),
		      "/nix/var/nix/profiles/per-user/root/channels");
	ASSERT_EQ(mode_of(t, "/root"), 0700);
	ASSERT_EQ(mode_of(t, "/root/.nix-defexpr"), 0700);
	ASSERT_EQ(mode_of(t, "/nix/store"), 01775);
	ASSERT_EQ(tree_lookup(t, "/nix/store")->gid, NIX_NIXBLD_GID);
	ASSERT_EQ(mode_of(t, "/nix/var/nix/temproots"), 0755);
	ASSERT_EQ(mode_of(t, "/nix/var/nix/userpool"), 0755);
	ASSERT_EQ(mode_of(t, "/nix/var/nix/db"), 0755);
	ASSERT_EQ(mode_of(t, "/nix/var/log/nix/drvs"), 0755);
	n = tree_lookup(t, "/etc/NIXOS");
	ASSERT_TRUE(n && n->type == TREE_REG && n->size == 0 && n->mode == 0644);
	n = tree_lookup(t, "/etc/nixos/configuration.nix");
	ASSERT_TRUE(n && n->type == TREE_REG && n->size == 4 && n->uid == 0 && n->gid == 0);
	tree_free(t);
}

TEST(nix_layout_without_system_or_channel)
{
	struct tree *t = tree_new();
	struct diag d = { 0 };
	struct nix_layout_opts o = { 0 };

	ASSERT_OK(nix_layout_apply(t, &o, &d));
	ASSERT_TRUE(tree_lookup(t, "/nix/var/nix/profiles/system") == NULL);
	ASSERT_TRUE(tree_lookup(t, "/root") == NULL);
	ASSERT_TRUE(tree_lookup(t, "/etc/nixos") == NULL);
	ASSERT_TRUE(tree_lookup(t, "/etc/NIXOS") != NULL);
	tree_free(t);
}

TEST(nix_layout_refuses_a_file_where_a_directory_goes)
{
	struct tree *t = tree_new();
	struct diag d = { 0 };
	struct nix_layout_opts o = { 0 };

	ASSERT_OK(tree_add_data(t, "/etc", "x", 1, 0644, 0, 0, 0, &d));
	ASSERT_TRUE(nix_layout_apply(t, &o, &d) < 0);
	ASSERT_TRUE(strstr(diag_message(&d, -EEXIST), "/etc") != NULL);
	tree_free(t);
}

TEST(nix_layout_resolve_checks_store_and_init)
{
	struct diag d = { 0 };
	char *r = NULL;

	ASSERT_TRUE(nix_layout_resolve("/tmp", "system", true, &d, &r) == -EINVAL);
	ASSERT_TRUE(strstr(diag_message(&d, -EINVAL), "not a path in /nix/store") != NULL);
	ASSERT_TRUE(nix_layout_resolve("/nonexistent/x", "system", true, &d, &r) == -ENOENT);
	ASSERT_TRUE(r == NULL);
}

TEST(nix_layout_keeps_contents_directories_but_fixes_the_store)
{
	struct tree *t = tree_new();
	struct diag d = { 0 };
	struct nix_layout_opts o = { 0 };

	ASSERT_OK(tree_mkdir_p(t, "/etc", 0750, 0, 5, 0, NULL));
	ASSERT_OK(tree_add_data(t, "/etc/NIXOS", "x", 1, 0600, 0, 0, 0, &d));
	ASSERT_OK(tree_mkdir_p(t, "/nix/store", 0755, 0, 0, 0, NULL));
	ASSERT_OK(nix_layout_apply(t, &o, &d));
	ASSERT_EQ(mode_of(t, "/etc"), 0750);
	ASSERT_EQ(tree_lookup(t, "/etc")->gid, 5);
	ASSERT_EQ(mode_of(t, "/nix/store"), 01775);
	ASSERT_EQ(tree_lookup(t, "/etc/NIXOS")->size, 1);
	tree_free(t);
}
