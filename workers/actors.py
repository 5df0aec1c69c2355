"""Every actor module, for the ``dramatiq workers.actors`` command line."""

from workers import broker as broker
from workers import imap as imap
from workers import media as media
from workers import outbound as outbound
from workers import stages as stages
from workers import webhooks as webhooks
