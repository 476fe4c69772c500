/*
 * rxfloor.c - the floor of a DPDK receive loop: what testpmd's rxonly
 * forwarding engine does (receive a burst, free it), on one worker lcore.
 *
 *   rxfloor SECONDS -- EAL-ARGS        (one port, e.g. --vdev net_pcap0,...)
 *
 * Debian 12 packages DPDK's libraries but not dpdk-testpmd, so `make bench`
 * measures the floor with this: the port set up as htsd sets it up (one RX
 * queue, RX timestamps when offered, the same mbuf pool sizes), bursts of
 * 32, rte_pktmbuf_free_bulk, no look at the data. It prints packets per
 * second on the worker; htsd's worker over the same vdev and mbufs divided
 * by it is how close htsd's loop is to the floor (docs/benchmarks.md).
 */
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile int stop;
static uint64_t received;

static int loop(void *arg)
{
    uint16_t port = *(uint16_t *)arg;
    struct rte_mbuf *b[32];
    uint64_t n = 0;
    while (!stop) {
        uint16_t k = rte_eth_rx_burst(port, 0, b, 32);
        if (k)
            rte_pktmbuf_free_bulk(b, k);
        n += k;
    }
    received = n;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: rxfloor SECONDS -- EAL-ARGS\n");
        return 2;
    }
    double secs = atof(argv[1]);
    /* the EAL gets the program's name and what follows "--" */
    int skip = 2;
    if (argc > 2 && strcmp(argv[2], "--") == 0)
        skip = 3;
    argv[skip - 1] = argv[0];
    int rc = rte_eal_init(argc - skip + 1, argv + skip - 1);
    if (rc < 0) {
        fprintf(stderr, "rxfloor: cannot initialise the EAL\n");
        return 1;
    }
    uint16_t port = 0;
    if (rte_eth_dev_count_avail() < 1 || rte_lcore_count() < 2) {
        fprintf(stderr, "rxfloor: need a port and a worker lcore\n");
        return 1;
    }
    struct rte_mempool *pool = rte_pktmbuf_pool_create("mbufs", 8191, 250, 0,
                                                       RTE_MBUF_DEFAULT_BUF_SIZE,
                                                       (int)rte_socket_id());
    struct rte_eth_conf conf;
    struct rte_eth_dev_info info;
    memset(&conf, 0, sizeof conf);
    if (!pool || rte_eth_dev_info_get(port, &info) != 0) {
        fprintf(stderr, "rxfloor: cannot set up the port\n");
        return 1;
    }
    if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP)
        conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
    uint16_t nrx = 1024, ntx = 512;
    if (rte_eth_dev_configure(port, 1, 1, &conf) != 0 ||
        rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrx, &ntx) != 0 ||
        rte_eth_rx_queue_setup(port, 0, nrx, rte_eth_dev_socket_id(port), NULL, pool) < 0 ||
        rte_eth_tx_queue_setup(port, 0, ntx, rte_eth_dev_socket_id(port), NULL) < 0 ||
        rte_eth_dev_start(port) < 0) {
        fprintf(stderr, "rxfloor: cannot start the port\n");
        return 1;
    }
    unsigned worker = rte_get_next_lcore(-1, 1, 0);
    uint64_t t0 = rte_get_tsc_cycles();
    rte_eal_remote_launch(loop, &port, worker);
    rte_delay_us_sleep((unsigned)(secs * 1e6));
    stop = 1;
    rte_eal_wait_lcore(worker);
    double s = (double)(rte_get_tsc_cycles() - t0) / (double)rte_get_tsc_hz();
    printf("rxfloor: %llu packets in %.2f s: %.0f pkt/s\n", (unsigned long long)received, s,
           (double)received / s);
    rte_eth_dev_stop(port);
    rte_eth_dev_close(port);
    rte_eal_cleanup();
    return 0;
}
