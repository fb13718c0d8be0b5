"""Agents: the protocol they implement, the built-in ones, and the durable agent manager."""

from clubhouse.agents.builtin import builtin_agent_factory
from clubhouse.agents.protocol import Agent, AgentFactory, AgentReply, AgentSpec

__all__ = ["Agent", "AgentFactory", "AgentReply", "AgentSpec", "builtin_agent_factory"]
