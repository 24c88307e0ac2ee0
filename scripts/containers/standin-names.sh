# The stand-in images' names (sourced): the workshop's own, never an official image's.
NODE_MAJOR=${NODE_MAJOR:-26}
STANDIN_BOOKWORM=workshop-standin/bookworm:minbase
STANDIN_NODE=workshop-standin/node:$NODE_MAJOR-bookworm
STANDIN_RABBITMQ_ROOT=workshop-standin/rabbitmq-root:4.3
STANDIN_RABBITMQ=workshop-standin/rabbitmq:4.3-management
STANDIN_PROMETHEUS=workshop-standin/prometheus:debian
export STANDIN_NODE STANDIN_RABBITMQ STANDIN_PROMETHEUS
